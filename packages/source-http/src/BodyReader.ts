/**
 * Reads a request body into memory, bounded: never more than `maxBytes` (the stream is cancelled at
 * the first chunk beyond), never longer than `timeout` (a slow sender is cut off). Nothing else in
 * the handler buffers.
 */
import { type Duration, Effect } from "effect"

/** Why a body could not be read: too large (413), too slow (408) or broken off (400). */
export type BodyProblem =
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "TooSlow" }
  | { readonly _tag: "Broken"; readonly reason: string }

const readAll = (stream: ReadableStream<Uint8Array>, maxBytes: number): Effect.Effect<Uint8Array | BodyProblem> =>
  Effect.callback<Uint8Array | BodyProblem>((resume, signal) => {
    const reader = stream.getReader()
    const chunks: Array<Uint8Array> = []
    let size = 0
    const stop = () => void reader.cancel().catch(() => {})
    signal.addEventListener("abort", stop)
    const pump = async (): Promise<Uint8Array | BodyProblem> => {
      while (true) {
        const { done, value } = await reader.read()
        if (done) break
        size += value.byteLength
        if (size > maxBytes) {
          stop()
          return { _tag: "TooLarge" }
        }
        chunks.push(value)
      }
      const body = new Uint8Array(size)
      let at = 0
      for (const chunk of chunks) {
        body.set(chunk, at)
        at += chunk.byteLength
      }
      return body
    }
    pump().then(
      (result) => resume(Effect.succeed(result)),
      (cause) => resume(Effect.succeed({ _tag: "Broken", reason: `body could not be read: ${String(cause)}` }))
    )
  })

/** The body's bytes, or why not. A request without a body has an empty one. */
export const readBody = (
  request: Request,
  maxBytes: number,
  timeout: Duration.Duration
): Effect.Effect<Uint8Array | BodyProblem> => {
  if (request.body === null) return Effect.succeed(new Uint8Array(0))
  return readAll(request.body, maxBytes).pipe(
    Effect.timeoutOrElse({ duration: timeout, orElse: () => Effect.succeed({ _tag: "TooSlow" } as const) })
  )
}

/** True when `value` is a problem rather than the body. */
export const isProblem = (value: Uint8Array | BodyProblem): value is BodyProblem => !(value instanceof Uint8Array)
