import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, Metric } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../src/EventStore.ts"
import * as Ingest from "../src/Ingest.ts"
import { InvalidSettingError } from "../src/InvalidSetting.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import * as Metrics from "../src/Metrics.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { RawPayloadStore } from "../src/RawPayloadStore.ts"
import * as Rederive from "../src/Rederive.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import { type EventDraft, type Source, TransformError } from "../src/Source.ts"

const router = makeRouterUnsafe([{ name: "all", transport: "memory", topic: "all", match: ["**"] }])

const bar = (symbol: string, close: number): EventDraft => ({
  event_type: "bar.closed",
  entity_type: "instrument",
  entity_id: symbol,
  occurred_at: DateTime.makeUnsafe(Date.UTC(2020, 0, 2)),
  payload: { close },
  natural_key: `${symbol}@2020-01-02`
})

/** Version 1 cannot read a body with `"price"` (a transformer bug); version 2 can, and rounds to cents. */
const transformer =
  (version: 1 | 2): Source["transform"] =>
  (raw) => {
    const body = JSON.parse(raw.body) as { symbol: string; close?: number; price?: number }
    if (body.close === undefined && version === 1)
      return Effect.fail(new TransformError({ reason: "no close in the body" }))
    const close = body.close ?? body.price ?? 0
    return Effect.succeed({
      events: [bar(body.symbol, version === 1 ? close : Math.round(close * 100) / 100)],
      issues: []
    })
  }

const source = (version: 1 | 2): Source => ({
  name: "bars",
  fetch: Effect.die("not fetched"),
  transform: transformer(version)
})

const ingest = (body: object, minute: number) =>
  Effect.andThen(
    TestClock.setTime(Date.UTC(2026, 0, 2, 3, minute)),
    Ingest.ingestPayload(source(1), router, {
      content_type: "application/json",
      body: JSON.stringify(body),
      request: null
    })
  )

const counts = (report: Rederive.RederiveReport) => ({
  payloads: report.payloads,
  eventsNew: report.eventsNew,
  corrected: report.corrected,
  duplicates: report.duplicates,
  stillFailing: report.stillFailing,
  fixed: report.fixed
})

describe("rederive", () => {
  it.effect(
    "re-runs the current transformer: a payload that failed gets its events and is resolved; a changed event is corrected",
    () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        yield* ingest({ symbol: "GOOG", close: 68.3685 }, 1)
        const failed = yield* ingest({ symbol: "AAPL", price: 75.0875 }, 2)
        assert.deepStrictEqual(failed.issues, ["no close in the body"])
        yield* ingest({ symbol: "MSFT", close: 160.62 }, 3)

        const dry = yield* Rederive.rederive(source(2), router, { dryRun: true, pageSize: 2 })
        const expected = { payloads: 3, eventsNew: 1, corrected: 1, duplicates: 1, stillFailing: 0, fixed: 1 }
        assert.deepStrictEqual(counts(dry), expected)
        assert.isTrue(dry.dryRun)
        assert.strictEqual((yield* store.readEvents(0, 10)).length, 2, "a dry run keeps nothing")
        assert.strictEqual((yield* admin.listOutbox({})).length, 2)

        const report = yield* Rederive.rederive(source(2), router, { pageSize: 2 })
        assert.deepStrictEqual(counts(report), expected)
        const events = yield* store.readEvents(0, 10)
        assert.deepStrictEqual(
          events.map((s) => [s.event.entity_id, (s.event.payload as { close: number }).close, s.raw_id]),
          [
            ["GOOG", 68.3685, events[0]!.raw_id],
            ["MSFT", 160.62, events[1]!.raw_id],
            ["GOOG", 68.37, events[0]!.raw_id],
            ["AAPL", 75.09, failed.rawId]
          ]
        )
        assert.strictEqual(events[2]!.event.supersedes, events[0]!.event.event_id)
        assert.strictEqual((yield* admin.listOutbox({})).length, 4, "new and corrected events are delivered")
        const raws = yield* RawPayloadStore
        const [, stored] = yield* raws.readRaw({ source: "bars", limit: 10 })
        assert.strictEqual(stored!.raw.transform_error, "no close in the body", "the error is kept for audit")
        assert.isNotNull(stored!.resolved_at)

        const again = yield* Rederive.rederive(source(2), router)
        assert.deepStrictEqual(counts(again), { ...expected, eventsNew: 0, corrected: 0, duplicates: 3, fixed: 0 })
      }).pipe(Effect.provide(layerMemory))
  )

  it.effect("counts payloads that still fail, and reads only those received since --since", () =>
    Effect.gen(function* () {
      yield* ingest({ symbol: "AAPL", price: 1 }, 1)
      yield* ingest({ symbol: "MSFT", price: 2 }, 2)
      const report = yield* Rederive.rederive(source(1), router, {
        since: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, 2))
      })
      assert.deepStrictEqual(counts(report), {
        payloads: 1,
        eventsNew: 0,
        corrected: 0,
        duplicates: 0,
        stillFailing: 1,
        fixed: 0
      })
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a failed payload that transforms now into drafts without a natural key stays unresolved", () =>
    Effect.gen(function* () {
      yield* ingest({ symbol: "AAPL", price: 1 }, 1)
      // The fixed transformer's draft has no natural key: it could not be told from one stored before.
      const unkeyed: Source = {
        ...source(2),
        transform: (raw) =>
          Effect.map(transformer(2)(raw), (result) => ({
            ...result,
            events: result.events.map(({ natural_key: _, ...draft }) => draft)
          }))
      }
      const report = yield* Rederive.rederive(unkeyed, router)
      assert.deepStrictEqual(
        [report.fixed, report.unresolvable, report.unkeyed, report.eventsNew, report.stillFailing],
        [0, 1, 1, 0, 0]
      )
      const [stored] = yield* (yield* RawPayloadStore).readRaw({ source: "bars", limit: 10 })
      assert.isNull(stored!.resolved_at, "still listed as failed")
      assert.strictEqual((yield* (yield* EventStore).readEvents(0, 10)).length, 0)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("an older payload's content does not override a later one's (outdated)", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* ingest({ symbol: "GOOG", close: 1367.37 }, 1)
      yield* ingest({ symbol: "GOOG", close: 68.3685 }, 2)
      const report = yield* Rederive.rederive(source(2), router)
      // 2021's payload is older than the split-adjusted version; the 2025 one is corrected to cents.
      assert.deepStrictEqual([report.outdated, report.corrected], [1, 1])
      const events = yield* store.readEvents(0, 10)
      assert.deepStrictEqual(
        events.map((s) => (s.event.payload as { close: number }).close),
        [1367.37, 68.3685, 68.37]
      )
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("refuses a page size that is not a number, or over the read limit, naming it", () =>
    Effect.gen(function* () {
      yield* ingest({ symbol: "GOOG", close: 1 }, 1)
      for (const pageSize of [Number.NaN, 10_001]) {
        const exit = yield* Effect.exit(Rederive.rederive(source(2), router, { pageSize }))
        const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
        assert.instanceOf(defect, InvalidSettingError, String(pageSize))
        assert.strictEqual((defect as InvalidSettingError).setting, "pageSize")
      }
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("an ingest that restates an event counts a correction; the same content again counts none", () =>
    Effect.gen(function* () {
      const corrected = Metrics.forSource(Metrics.eventsCorrected, "bars")
      const before = (yield* Metric.value(corrected)).count
      yield* ingest({ symbol: "GOOG", close: 1367.37 }, 1)
      yield* ingest({ symbol: "GOOG", close: 68.37 }, 2)
      yield* ingest({ symbol: "GOOG", close: 68.37 }, 3)
      assert.strictEqual((yield* Metric.value(corrected)).count - before, 1)
    }).pipe(Effect.provide(layerMemory))
  )
})
