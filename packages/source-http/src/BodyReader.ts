/**
 * Reads a request body into memory, bounded: never more than `maxBytes` (the stream is cancelled at
 * the first chunk beyond), never longer than `timeout` (a slow sender is cut off). Nothing else in
 * the handler buffers.
 *
 * The deadlines of all the reads in progress are kept by one watcher fiber, which sleeps (Effect's
 * Clock) until the earliest and cuts off the reads past theirs: a timeout raced per read cost two
 * fibers and a timer per request.
 */
import { Clock, Duration, Effect } from "effect"

/** Why a body could not be read: too large (413), too slow (408) or broken off (400). */
export type BodyProblem =
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "TooSlow" }
  | { readonly _tag: "Broken"; readonly reason: string }

/** Reads a request's body: its bytes, or why not. A request without a body has an empty one. */
export type BodyReader = (request: Request) => Effect.Effect<Uint8Array | BodyProblem>

interface Reading {
  readonly deadline: number
  /** Cuts the read off as too slow. */
  readonly expire: () => void
}

const tooSlow: BodyProblem = { _tag: "TooSlow" }

const concat = (chunks: ReadonlyArray<Uint8Array>, size: number) => {
  if (chunks.length === 1) return chunks[0]!
  const body = new Uint8Array(size)
  let at = 0
  for (const chunk of chunks) {
    body.set(chunk, at)
    at += chunk.byteLength
  }
  return body
}

/** A reader of bodies up to `maxBytes`, each read within `timeout`, run in the current context. */
export const make = (maxBytes: number, timeout: Duration.Duration): Effect.Effect<BodyReader> =>
  Effect.gen(function* () {
    const fork = Effect.runForkWith(yield* Effect.context<never>())
    const clock = yield* Clock.Clock
    const timeoutMillis = Duration.toMillis(timeout)
    // In the order they started, so by deadline: every read has the same timeout.
    const readings = new Set<Reading>()
    let watching = false

    const watch: Effect.Effect<void> = Effect.suspend(() => {
      const now = clock.currentTimeMillisUnsafe()
      for (const reading of readings) {
        if (reading.deadline > now) return Effect.andThen(Effect.sleep(Duration.millis(reading.deadline - now)), watch)
        readings.delete(reading)
        reading.expire()
      }
      watching = false
      return Effect.void
    })

    return (request) => {
      const stream = request.body
      if (stream === null) return Effect.succeed(new Uint8Array(0))
      return Effect.callback<Uint8Array | BodyProblem>((resume, signal) => {
        const now = clock.currentTimeMillisUnsafe()
        const reader = stream.getReader()
        const chunks: Array<Uint8Array> = []
        let size = 0
        let done = false
        const stop = () => void reader.cancel().catch(() => {})
        const finish = (result: Uint8Array | BodyProblem) => {
          if (done) return
          done = true
          readings.delete(reading)
          resume(Effect.succeed(result))
        }
        const reading: Reading = {
          deadline: now + timeoutMillis,
          expire: () => {
            stop()
            finish(tooSlow)
          }
        }
        readings.add(reading)
        if (!watching) {
          watching = true
          // Interrupted (its runtime closing): the next read starts another.
          fork(
            Effect.onInterrupt(watch, () =>
              Effect.sync(() => {
                watching = false
              })
            )
          )
        }
        signal.addEventListener("abort", () => {
          readings.delete(reading)
          stop()
        })
        const pump = async (): Promise<Uint8Array | BodyProblem> => {
          while (!done) {
            const { done: end, value } = await reader.read()
            if (end) break
            size += value.byteLength
            if (size > maxBytes) {
              stop()
              return { _tag: "TooLarge" }
            }
            chunks.push(value)
          }
          return concat(chunks, size)
        }
        pump().then(finish, (cause) => finish({ _tag: "Broken", reason: `body could not be read: ${String(cause)}` }))
      })
    }
  })

/** True when `value` is a problem rather than the body. */
export const isProblem = (value: Uint8Array | BodyProblem): value is BodyProblem => !(value instanceof Uint8Array)
