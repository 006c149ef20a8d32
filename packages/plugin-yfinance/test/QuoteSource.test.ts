import { assert, describe, it } from "@effect/vitest"
import { Ingest, layerMemory } from "@sluice/core"
import { Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
import type { QuotePayload, QuoteRequest } from "../src/index.ts"
import { outboxRows, router, sourceOf, storedEvents, storedRaw } from "./support/pipeline.ts"
import { bodyOf, replay, untilCalled } from "./support/recordings.ts"

const everyRecordedSymbol = [
  "AAPL",
  "BTC-USD",
  "EURUSD=X",
  "GC=F",
  "0P000071W8.TO",
  "QQQ",
  "^VXAPL",
  "OCDO.L",
  "AAPL220121C00025000"
]
const fixtureFor = (symbol: string) => `quote-${symbol}.json`

describe("quote mode, end to end through yahoo-finance2 and Ingest.tick", () => {
  it.effect("every recorded instrument ingests: events, outbox rows and the exact raw bodies", () =>
    Effect.gen(function* () {
      const http = replay()
      const source = yield* sourceOf({ symbols: everyRecordedSymbol, symbolsPerRequest: 1 }, http.fetch)
      const report = yield* Ingest.tick(source, router)

      // The expired option is the one symbol Yahoo had no quote for: reported, not retryable.
      assert.deepStrictEqual(report.fetchFailures, [
        {
          subject: "AAPL220121C00025000",
          reason:
            "unknown symbol: Yahoo has no quote for it (unknown, expired or delisted); not asked for during the next 1 tick",
          retryable: false
        }
      ])
      assert.strictEqual(report.payloads.length, everyRecordedSymbol.length)
      assert.deepStrictEqual(
        report.payloads.map((p) => p.issues),
        everyRecordedSymbol.map(() => [])
      )

      const events = yield* storedEvents
      assert.deepStrictEqual(
        events.map((e) => e.event.entity_id).sort(),
        everyRecordedSymbol.filter((s) => s !== "AAPL220121C00025000").sort()
      )
      for (const stored of events) {
        assert.strictEqual(stored.event.event_type, "quote.updated")
        const payload = stored.event.payload as unknown as QuotePayload
        // Each event points at the raw payload it came from, which is Yahoo's body byte for byte.
        const raw = yield* storedRaw(stored.raw_id!)
        assert.strictEqual(raw.body, bodyOf(fixtureFor(payload.symbol)))
        assert.strictEqual(raw.transform_error, null)
        const request = raw.request as unknown as QuoteRequest
        assert.strictEqual(request.endpoint, "quote")
        assert.deepStrictEqual(request.symbols, [payload.symbol])
        assert.strictEqual(request.status, 200)
        assert.notInclude(request.url, "crumb")
      }
      // Two routes match quote.updated: quotes and all.
      const rows = yield* outboxRows
      assert.strictEqual(rows.length, events.length * 2)
      assert.deepStrictEqual([...new Set(rows.map((r) => r.route))].sort(), ["all", "quotes"])
      // The crumb handshake ran once, through the replayed consent flow.
      assert.strictEqual(http.calls.filter((c) => c.url.includes("/v1/test/getcrumb")).length, 1)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("fetching the same quotes again creates no new events nor outbox rows", () =>
    Effect.gen(function* () {
      const source = yield* sourceOf({ symbols: ["AAPL", "BABA"] }, replay().fetch)
      const first = yield* Ingest.tick(source, router)
      assert.strictEqual(first.payloads.length, 1, "one batch request for both symbols")
      assert.strictEqual(first.payloads[0]!.appended, 2)
      const second = yield* Ingest.tick(source, router)
      assert.strictEqual(second.payloads[0]!.appended, 0)
      assert.strictEqual(second.payloads[0]!.duplicates, 2)
      assert.strictEqual(second.payloads[0]!.outboxRows, 0)
      assert.strictEqual((yield* storedEvents).length, 2)
      assert.strictEqual((yield* outboxRows).length, 4)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("fields-limited requests ingest with the fields Yahoo did not send as null", () =>
    Effect.gen(function* () {
      const http = replay()
      const msft = yield* sourceOf({ symbols: ["MSFT"], fields: ["beta"] }, http.fetch)
      const tsla = yield* sourceOf({ symbols: ["TSLA"], fields: ["symbol", "displayName"] }, http.fetch)
      const reports = [yield* Ingest.tick(msft, router), yield* Ingest.tick(tsla, router)]
      assert.deepStrictEqual(
        reports.map((r) => [r.fetchFailures, r.payloads[0]!.appended, r.payloads[0]!.issues]),
        [
          [[], 1, []],
          [[], 1, []]
        ]
      )
      const [first, second] = yield* storedEvents
      const msftPayload = first!.event.payload as unknown as QuotePayload
      assert.deepStrictEqual(
        [msftPayload.symbol, msftPayload.price, msftPayload.currency, msftPayload.volume],
        ["MSFT", 408.43, null, null]
      )
      const tslaPayload = second!.event.payload as unknown as QuotePayload
      assert.deepStrictEqual([tslaPayload.symbol, tslaPayload.name, tslaPayload.currency], ["TSLA", "Tesla", null])
      const raw = yield* storedRaw(first!.raw_id!)
      assert.deepStrictEqual((raw.request as unknown as QuoteRequest).fields, ["beta"])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("unknown symbol (404) and server error (500) are reported per symbol; the others ingest", () =>
    Effect.gen(function* () {
      const http = replay([], {
        intercept: ({ url }) =>
          url.searchParams.get("symbols") === "BOOM" ? new Response("upstream exploded", { status: 500 }) : undefined
      })
      const source = yield* sourceOf({ symbols: ["AAPL", "NOPE", "BOOM", "QQQ"], symbolsPerRequest: 1 }, http.fetch)
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(
        report.fetchFailures.map((f) => [f.subject, f.retryable]),
        [
          ["NOPE", false],
          ["BOOM", true]
        ]
      )
      assert.match(report.fetchFailures[0]!.reason, /HTTP 404: no recording for GET/)
      assert.strictEqual(report.fetchFailures[1]!.reason, "Yahoo failed (HTTP 500)")
      assert.deepStrictEqual((yield* storedEvents).map((e) => e.event.entity_id).sort(), ["AAPL", "QQQ"])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("odd quotes are kept on the raw row with their reasons; the good one ingests", () =>
    Effect.gen(function* () {
      const source = yield* sourceOf(
        { symbols: ["ODD1", "ODD2", "ODD3", "ODD4"] },
        replay(["sluice-quote-odd-fields.json"]).fetch
      )
      const report = yield* Ingest.tick(source, router)
      // ODD4 (quoteType NONE) is an unknown symbol, reported like one left out of the answer.
      assert.deepStrictEqual(
        report.fetchFailures.map((f) => [f.subject, f.retryable]),
        [["ODD4", false]]
      )
      assert.strictEqual(report.payloads[0]!.appended, 1)
      assert.strictEqual(report.payloads[0]!.issues.length, 4)
      const raw = yield* storedRaw(report.payloads[0]!.rawId)
      assert.strictEqual(raw.body, bodyOf("sluice-quote-odd-fields.json"))
      for (const symbol of ["ODD1", "ODD2", "ODD3"]) assert.include(raw.transform_error ?? "", symbol)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("an HTML page instead of JSON is stored with the reason, and names no symbol as missing", () =>
    Effect.gen(function* () {
      const source = yield* sourceOf({ symbols: ["HTML"] }, replay(["sluice-quote-html.json"]).fetch)
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.fetchFailures, [])
      const raw = yield* storedRaw(report.payloads[0]!.rawId)
      assert.strictEqual(raw.content_type, "text/html; charset=utf-8")
      assert.match(raw.transform_error ?? "", /not JSON/)
      assert.strictEqual((yield* storedEvents).length, 0)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("when every request fails for a transient reason, the fetch fails retryable", () =>
    Effect.gen(function* () {
      const down = replay([], {
        intercept: ({ url }) => {
          if (url.pathname.startsWith("/v7/finance/quote")) throw new TypeError("fetch failed")
          return undefined
        }
      })
      const source = yield* sourceOf({ symbols: ["AAPL", "QQQ"] }, down.fetch)
      const error = yield* Effect.flip(Ingest.tick(source, router))
      assert.strictEqual(error._tag, "SourceError")
      assert.isTrue(error._tag === "SourceError" && error.retryable)
      assert.match(error.message, /source yf: every request failed \(AAPL, QQQ\): network failure: fetch failed/)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("when only permanent failures occur, they are reported and the tick succeeds", () =>
    Effect.gen(function* () {
      const source = yield* sourceOf({ symbols: ["NOPE"] }, replay().fetch)
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.payloads, [])
      assert.deepStrictEqual(
        report.fetchFailures.map((f) => [f.subject, f.retryable]),
        [["NOPE", false]]
      )
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a request that outlives requestTimeout is a retryable failure, and its fetch is aborted", () =>
    Effect.gen(function* () {
      let aborted = false
      const hanging = replay([], {
        intercept: ({ url, signal }) =>
          url.pathname.startsWith("/v7/finance/quote")
            ? new Promise<Response>((_, reject) => {
                signal?.addEventListener("abort", () => {
                  aborted = true
                  reject(new Error("aborted"))
                })
              })
            : undefined
      })
      const source = yield* sourceOf({ symbols: ["AAPL"], requestTimeout: "5 seconds" }, hanging.fetch)
      const fiber = yield* Effect.forkChild(Effect.flip(Ingest.tick(source, router)))
      // Let the handshake (real promises) reach the hanging quote request before time moves.
      yield* untilCalled(hanging, "/v7/finance/quote")
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error._tag, "SourceError")
      assert.isTrue(error._tag === "SourceError" && error.retryable)
      assert.match(error.message, /no answer from Yahoo within 5s \(requestTimeout\)/)
      assert.isTrue(aborted)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a rejected crumb (401) is retryable and the next tick makes a new session", () =>
    Effect.gen(function* () {
      let rejections = 1
      const http = replay([], {
        intercept: ({ url }) => {
          if (url.pathname.startsWith("/v7/finance/quote") && rejections > 0) {
            rejections--
            return new Response(
              JSON.stringify({
                finance: { result: null, error: { code: "Unauthorized", description: "Invalid Crumb" } }
              }),
              {
                status: 401
              }
            )
          }
          return undefined
        }
      })
      const source = yield* sourceOf({ symbols: ["AAPL"] }, http.fetch)
      const error = yield* Effect.flip(Ingest.tick(source, router))
      assert.match(error.message, /HTTP 401: Invalid Crumb/)
      const report = yield* Ingest.tick(source, router)
      assert.strictEqual(report.payloads[0]!.appended, 1)
      assert.strictEqual(http.calls.filter((c) => c.url.includes("/v1/test/getcrumb")).length, 2)
    }).pipe(Effect.provide(layerMemory))
  )
})
