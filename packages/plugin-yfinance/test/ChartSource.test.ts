import { assert, describe, it } from "@effect/vitest"
import { Ingest, layerMemory } from "@sluice/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import type { BarPayload, ChartRequest } from "../src/index.ts"
import { outboxRows, router, sourceOf, storedEvents, storedRaw } from "./support/pipeline.ts"
import { bodyOf, replay } from "./support/recordings.ts"

const backfill2020 = { mode: "chart", period1: "2020-01-01", period2: "2020-01-03" } as const
/** A "now" long after the recorded bars, so they are all closed. */
const setLater = TestClock.setTime(Date.UTC(2026, 0, 2))

describe("chart mode, end to end through yahoo-finance2 and Ingest.tick", () => {
  it.effect("backfills equities, crypto, FX and futures; re-fetching creates nothing new", () =>
    Effect.gen(function* () {
      yield* setLater
      const symbols = ["AAPL", "BTC-USD", "EURUSD=X", "GC=F"]
      const source = yield* sourceOf({ ...backfill2020, symbols }, replay().fetch)
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.fetchFailures, [])
      assert.deepStrictEqual(
        report.payloads.map((p) => [p.appended, p.issues.length]),
        [
          [1, 0],
          [3, 0],
          [3, 0],
          [1, 0]
        ]
      )
      const events = yield* storedEvents
      assert.strictEqual(events.length, 8)
      for (const stored of events) {
        const payload = stored.event.payload as unknown as BarPayload
        assert.strictEqual(stored.event.event_type, "bar.closed")
        const raw = yield* storedRaw(stored.raw_id!)
        assert.strictEqual(raw.body, bodyOf(`chart-${payload.symbol}-2020-01-01-to-2020-01-03.json`))
        const request = raw.request as unknown as ChartRequest
        assert.deepStrictEqual(
          [request.endpoint, request.symbol, request.interval, request.period1, request.period2],
          ["chart", payload.symbol, "1d", "2020-01-01T00:00:00.000Z", "2020-01-03T00:00:00.000Z"]
        )
      }
      assert.strictEqual((yield* outboxRows).length, 16) // bars + all
      const again = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(
        again.payloads.map((p) => [p.appended, p.duplicates]),
        [
          [0, 1],
          [0, 3],
          [0, 3],
          [0, 1]
        ]
      )
      assert.strictEqual((yield* storedEvents).length, 8)
      assert.strictEqual((yield* outboxRows).length, 16)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("the 2022 AAPL recording ingests its one daily bar", () =>
    Effect.gen(function* () {
      yield* setLater
      const source = yield* sourceOf(
        { mode: "chart", symbols: ["AAPL"], period1: "2022-02-22", period2: "2022-02-23" },
        replay().fetch
      )
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.fetchFailures, [])
      const [stored] = yield* storedEvents
      const payload = stored!.event.payload as unknown as BarPayload
      assert.deepStrictEqual([payload.symbol, payload.interval, payload.close], ["AAPL", "1d", 164.32000732421875])
      assert.strictEqual((yield* storedRaw(stored!.raw_id!)).body, bodyOf("chart-AAPL.json"))
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("1-minute bars without pre/post market on a Saturday: an empty range, no issue", () =>
    Effect.gen(function* () {
      yield* setLater
      const source = yield* sourceOf(
        {
          mode: "chart",
          symbols: ["AAPL"],
          interval: "1m",
          includePrePost: false,
          period1: "2025-02-01",
          period2: "2025-02-02"
        },
        replay().fetch
      )
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.fetchFailures, [])
      assert.deepStrictEqual(
        report.payloads.map((p) => [p.appended, p.issues]),
        [[0, []]]
      )
    }).pipe(Effect.provide(layerMemory))
  )

  for (const fake of ["chart-notimestamp-quotes-length.fake.json", "chart-notimestamp-weird-quote.fake.json"]) {
    it.effect(`${fake}: the library refuses it, the raw body is still kept with the reason`, () =>
      Effect.gen(function* () {
        yield* setLater
        const source = yield* sourceOf({ ...backfill2020, symbols: ["AAPL"] }, replay([fake]).fetch)
        const report = yield* Ingest.tick(source, router)
        assert.deepStrictEqual(report.fetchFailures, [])
        assert.strictEqual(report.payloads[0]!.appended, 0)
        const raw = yield* storedRaw(report.payloads[0]!.rawId)
        assert.strictEqual(raw.body, bodyOf(fake))
        assert.match(raw.transform_error ?? "", /^AAPL 1d: price series without timestamps/)
      }).pipe(Effect.provide(layerMemory))
    )
  }

  it.effect("TSLA hourly on a holiday (.fake, no timestamps, empty series): nothing to ingest, nothing wrong", () =>
    Effect.gen(function* () {
      yield* setLater
      const source = yield* sourceOf(
        { mode: "chart", symbols: ["TSLA"], interval: "1h", period1: "2025-01-01", period2: "2025-01-02" },
        replay(["chart-TSLA-2025-01-01-to-2025-01-02-interval-1h.fake.json"]).fetch
      )
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(
        report.payloads.map((p) => [p.appended, p.issues]),
        [[0, []]]
      )
      const raw = yield* storedRaw(report.payloads[0]!.rawId)
      assert.strictEqual(raw.transform_error, null)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("an unknown chart symbol (Yahoo's 404) is reported with Yahoo's reason; the others ingest", () =>
    Effect.gen(function* () {
      yield* setLater
      const source = yield* sourceOf(
        { ...backfill2020, symbols: ["NOPE", "GC=F"] },
        replay(["sluice-chart-NOPE-404.json"]).fetch
      )
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.fetchFailures, [
        {
          subject: "NOPE",
          reason:
            "unknown symbol: Yahoo has no such symbol or data (HTTP 404: No data found, symbol may be delisted); not asked for during the next 1 tick",
          retryable: false
        }
      ])
      assert.deepStrictEqual(
        (yield* storedEvents).map((e) => e.event.entity_id),
        ["GC=F"]
      )
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("lookback takes its range from the Clock; the bar still in progress waits for a later tick", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.UTC(2020, 0, 3))
      const source = yield* sourceOf({ mode: "chart", symbols: ["BTC-USD"], lookback: "2 days" }, replay().fetch)
      const report = yield* Ingest.tick(source, router)
      // now - 2 days = 2020-01-01, so the request is the recorded one.
      assert.deepStrictEqual(report.fetchFailures, [])
      assert.strictEqual(report.payloads[0]!.appended, 2)
      assert.deepStrictEqual(report.payloads[0]!.issues, [
        "BTC-USD 1d bar 2020-01-03T00:00:00.000Z: still open when received (it ends 2020-01-04T00:00:00.000Z); no event until it closes"
      ])
    }).pipe(Effect.provide(layerMemory))
  )
})
