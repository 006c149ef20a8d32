/** A ConsoleSink for tests: captures lines, fails the ones it is told to, and can hold writes. */
import { Effect } from "effect"
import { ConsoleSinkError, type ConsoleSinkShape } from "../src/ConsoleSink.ts"

export interface CaptureSink {
  readonly sink: ConsoleSinkShape
  /** Lines written successfully, without their newline. */
  readonly lines: () => ReadonlyArray<string>
  /** Decides, per line, whether the write fails (and how). */
  failWhen: (line: string) => ConsoleSinkError | undefined
  /** While set, writes wait for it. */
  gate: Promise<void> | undefined
  /** Called when a write starts. */
  onWrite: () => void
}

export const makeCaptureSink = (isTTY = false): CaptureSink => {
  const written: Array<string> = []
  const capture: CaptureSink = {
    lines: () => [...written],
    failWhen: () => undefined,
    gate: undefined,
    onWrite: () => {},
    sink: {
      isTTY,
      write: (text) =>
        Effect.callback<void>((resume) => {
          capture.onWrite()
          if (capture.gate === undefined) resume(Effect.void)
          else void capture.gate.then(() => resume(Effect.void))
        }).pipe(
          Effect.andThen(() => {
            const line = text.endsWith("\n") ? text.slice(0, -1) : text
            const error = capture.failWhen(line)
            if (error !== undefined) return Effect.fail(error)
            written.push(line)
            return Effect.void
          })
        )
    }
  }
  return capture
}

export const sinkError = (reason: string, retryable: boolean) => new ConsoleSinkError({ reason, retryable })
