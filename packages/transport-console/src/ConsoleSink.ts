/**
 * The console transport's output port: where lines go. Keeping stdout behind this small service lets
 * tests capture output and simulate a closed stream, and keeps the Node-specific stream handling in
 * one place (`fromWritable`, used by `NodeStdout.ts`).
 */
import { Context, Data, Effect, type Scope } from "effect"

/** A write did not reach the output. `retryable` says whether a later attempt may succeed. */
export class ConsoleSinkError extends Data.TaggedError("ConsoleSinkError")<{
  readonly reason: string
  readonly retryable: boolean
}> {
  override get message() {
    return this.reason
  }
}

export interface ConsoleSinkShape {
  /**
   * Writes `text` (one line with its newline). Completes once the stream has taken it; fails with
   * ConsoleSinkError, never dies, when the stream is closed or the write fails.
   */
  readonly write: (text: string) => Effect.Effect<void, ConsoleSinkError>
  /** True when the output is an interactive terminal (the `auto` format then prints pretty lines). */
  readonly isTTY: boolean
}

/** The output the console transport writes to. Without one in the context it uses stdout. */
export class ConsoleSink extends Context.Service<ConsoleSink, ConsoleSinkShape>()("sluice/ConsoleSink") {}

/** The part of a Node `Writable` (such as `process.stdout`) the sink uses. */
export interface WritableLike {
  readonly destroyed: boolean
  readonly writableEnded: boolean
  readonly isTTY?: boolean | undefined
  write(chunk: string, callback: (error?: Error | null) => void): boolean
  on(event: "error", listener: (error: Error) => void): unknown
  off(event: "error", listener: (error: Error) => void): unknown
}

const codeOf = (error: unknown): string | undefined => {
  const code = (error as { readonly code?: unknown } | null)?.code
  return typeof code === "string" ? code : undefined
}

/**
 * A sink over a Node writable stream. While the scope is open it listens for the stream's `error`
 * event: an EPIPE on a closed stdout is then recorded and reported by the next writes instead of
 * crashing the process as an unhandled `error` event. A closed stream cannot reopen in this
 * process, but the events are fine: failures are retryable, so the rows stay pending (another
 * process, or this one after a restart, delivers them) until the retry policy gives up.
 */
export const fromWritable = (
  stream: WritableLike,
  name = "stdout"
): Effect.Effect<ConsoleSinkShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    let failure: Error | undefined
    let pending = 0
    const onError = (error: Error) => {
      failure ??= error
    }
    // Node emits a failed write's `error` event a tick after its callback: once a write failed or is
    // in flight, the listener stays, so a late event cannot crash the process after the scope closed.
    yield* Effect.acquireRelease(
      Effect.sync(() => stream.on("error", onError)),
      () =>
        Effect.sync(() => {
          if (failure === undefined && pending === 0 && !stream.destroyed) stream.off("error", onError)
        })
    )
    const closed = (error: unknown) => {
      const code = codeOf(error)
      return new ConsoleSinkError({
        reason: `${name} is closed${code === undefined ? "" : ` (${code})`}: the line was not written`,
        retryable: true
      })
    }
    const failed = (error: unknown) => {
      const code = codeOf(error)
      if (code === "EPIPE" || code === "ERR_STREAM_DESTROYED" || code === "ERR_STREAM_WRITE_AFTER_END") {
        return closed(error)
      }
      const detail = error instanceof Error ? error.message : String(error)
      return new ConsoleSinkError({ reason: `writing to ${name} failed: ${detail}`, retryable: true })
    }
    return {
      isTTY: stream.isTTY === true,
      write: (text) =>
        Effect.callback<void, ConsoleSinkError>((resume) => {
          if (failure !== undefined) return resume(Effect.fail(failed(failure)))
          if (stream.destroyed || stream.writableEnded) return resume(Effect.fail(closed(undefined)))
          try {
            pending++
            stream.write(text, (error) => {
              pending--
              if (error !== null && error !== undefined) {
                failure ??= error
                resume(Effect.fail(failed(error)))
              } else {
                resume(Effect.void)
              }
            })
          } catch (error) {
            pending--
            failure ??= error instanceof Error ? error : new Error(String(error))
            resume(Effect.fail(failed(error)))
          }
        })
    }
  })
