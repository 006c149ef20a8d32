/** Test support: captures log lines (core's JSON logger into the TestConsole) for assertions. */
import { jsonLogger } from "@sluice/core"
import { Effect, Layer, Logger } from "effect"
import { TestConsole } from "effect/testing"

/** One captured line: level, message and the annotations at top level. */
export interface LogLine {
  readonly level: string
  readonly message: string
  readonly [key: string]: unknown
}

/** Routes every log line to the TestConsole as JSON. */
export const captureLogs = Layer.mergeAll(TestConsole.layer, Logger.layer([jsonLogger]))

/** Every line logged so far. */
export const logged: Effect.Effect<ReadonlyArray<LogLine>> = Effect.map(TestConsole.logLines, (lines) =>
  lines.map((line) => JSON.parse(String(line)) as LogLine)
)
