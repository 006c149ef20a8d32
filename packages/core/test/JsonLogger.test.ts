import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Layer, Logger } from "effect"
import { TestClock, TestConsole } from "effect/testing"
import { jsonLogger } from "../src/JsonLogger.ts"

const lines = Effect.map(TestConsole.logLines, (all) => all.map((line) => JSON.parse(String(line))))

describe("JSON logger", () => {
  it.effect("writes one JSON object per line with timestamp, level, message, annotations and span ids", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2026, 10, 27, 9, 0, 0))
      yield* Effect.logWarning("delivery failed, will retry").pipe(
        Effect.annotateLogs({ event_id: "e-1", trace_id: "t-1", attempt: 2, topic: "quotes", error: "HTTP 503" }),
        Effect.withSpan("sluice.relay.batch")
      )
      yield* Effect.logInfo("ingested", { events: 3 })
      const [first, second] = yield* lines
      expect(first).toMatchObject({
        timestamp: "2026-11-27T09:00:00.000Z",
        level: "WARN",
        message: "delivery failed, will retry",
        event_id: "e-1",
        trace_id: "t-1",
        attempt: 2,
        topic: "quotes",
        error: "HTTP 503"
      })
      expect(first.span_trace_id).toMatch(/^[0-9a-f]{32}$/)
      expect(second).toMatchObject({ level: "INFO", message: "ingested", data: { events: 3 } })
      expect(second.span_trace_id).toBeUndefined()
    }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, Logger.layer([jsonLogger]))))
  )

  it.effect("includes the cause of a failure and survives values JSON cannot write", () =>
    Effect.gen(function* () {
      yield* Effect.logError("boom", Cause.fail("connection reset"))
      yield* Effect.logError("failed").pipe(Effect.annotateLogs({ big: 10n }))
      const circular: Record<string, unknown> = {}
      circular.self = circular
      yield* Effect.logInfo("odd", circular)
      const all = yield* lines
      expect(all[0].message).toBe("boom")
      expect(all[0].cause).toContain("connection reset")
      expect(all[1]).toMatchObject({ message: "failed", big: "10" })
      expect(all[2].message).toBe("unserialisable log line")
    }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, Logger.layer([jsonLogger]))))
  )
})
