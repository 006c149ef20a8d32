/**
 * Unknown symbols back off: asked for (and logged, and stored) at ticks 0, 2, 5, 10, 19, 36, 69...
 * while the good symbols are asked for every tick; both kinds of unknown quote (left out of the
 * answer, quoteType NONE) are reported alike; a symbol that answers again resumes at once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Ingest, layerMemory, Metrics } from "@sluice/core"
import { Effect, Layer, Metric } from "effect"
import { skippedSymbolFetches, unknownSymbols } from "../src/SymbolBackoff.ts"
import type { ReplayFetch } from "../src/testing/index.ts"
import { captureLogs, logged } from "./support/logs.ts"
import { router, sourceOf } from "./support/pipeline.ts"
import { replay } from "./support/recordings.ts"

/** Yahoo's answer for a symbol it knows nothing about, in the quoteType NONE form. */
const noneQuote = (symbol: string) =>
  new Response(JSON.stringify({ quoteResponse: { result: [{ symbol, quoteType: "NONE" }], error: null } }), {
    headers: { "content-type": "application/json;charset=utf-8" }
  })

/** The data symbols each call since `from` asked for (quote: `symbols=`, chart: the path). */
const askedFor = (http: ReplayFetch, from: number): Array<string> =>
  http.calls.slice(from).flatMap((call) => {
    const url = new URL(call.url)
    if (url.pathname.startsWith("/v7/finance/quote")) return (url.searchParams.get("symbols") ?? "").split(",")
    if (url.pathname.startsWith("/v8/finance/chart/")) return [decodeURIComponent(url.pathname.slice(18))]
    return []
  })

/** Runs `ticks` ticks; returns, per symbol, the ticks at which it was asked for. */
const tickAndTrack = (source: Parameters<typeof Ingest.tick>[0], http: ReplayFetch, ticks: number) =>
  Effect.gen(function* () {
    const asked = new Map<string, Array<number>>()
    for (let tick = 0; tick < ticks; tick++) {
      const before = http.calls.length
      yield* Ingest.tick(source, router)
      for (const symbol of askedFor(http, before)) asked.set(symbol, [...(asked.get(symbol) ?? []), tick])
    }
    return asked
  })

const everyTick = (n: number) => Array.from({ length: n }, (_, i) => i)
const EXPECTED_UNKNOWN_TICKS = [0, 2, 5, 10, 19, 36, 69]

const layer = Layer.mergeAll(layerMemory, captureLogs)

describe("unknown symbols back off", () => {
  it.effect("over 100 ticks an unknown symbol is asked for 7 times, a good one every tick", () =>
    Effect.gen(function* () {
      const http = replay([], {
        intercept: ({ url }) => (url.searchParams.get("symbols") === "XNONE" ? noneQuote("XNONE") : undefined)
      })
      // AAPL220121C00025000 (an expired option) is answered with an empty result; XNONE with quoteType NONE.
      const symbols = ["AAPL", "AAPL220121C00025000", "XNONE"]
      const source = yield* sourceOf({ symbols, symbolsPerRequest: 1 }, http.fetch, "backoff")
      const asked = yield* tickAndTrack(source, http, 100)
      assert.deepStrictEqual(asked.get("AAPL"), everyTick(100))
      assert.deepStrictEqual(asked.get("AAPL220121C00025000"), EXPECTED_UNKNOWN_TICKS)
      assert.deepStrictEqual(asked.get("XNONE"), EXPECTED_UNKNOWN_TICKS)

      // Logged only when asked for, the same way for both kinds, saying how long it now pauses.
      const warnings = (yield* logged).filter((line) => line.message === "fetch failed in part")
      const reasonsOf = (subject: string) =>
        warnings.filter((line) => line.subject === subject).map((line) => String(line.error))
      const pauses = [1, 2, 4, 8, 16, 32, 64].map(
        (n) =>
          `unknown symbol: Yahoo has no quote for it (unknown, expired or delisted); not asked for during the next ${n} tick${n === 1 ? "" : "s"}`
      )
      assert.deepStrictEqual(reasonsOf("AAPL220121C00025000"), pauses)
      assert.deepStrictEqual(reasonsOf("XNONE"), pauses)
      assert.strictEqual(warnings.length, 14)
      // Nothing reports XNONE a second time, as a transform issue.
      assert.isFalse((yield* logged).some((line) => line.message === "payload kept with a transform issue"))

      // A raw row (the audit trail) each time it IS asked for: 100 for AAPL, 7 + 7 for the others.
      assert.strictEqual((yield* Metric.value(Metrics.forSource(Metrics.rawPayloads, "backoff"))).count, 114)

      assert.strictEqual((yield* Metric.value(Metrics.forSource(unknownSymbols, "backoff"))).value, 2)
      assert.strictEqual((yield* Metric.value(Metrics.forSource(skippedSymbolFetches, "backoff"))).count, 2 * (100 - 7))
    }).pipe(Effect.provide(layer))
  )

  it.effect("a symbol that answers again is asked for every tick from then on, and that is logged", () =>
    Effect.gen(function* () {
      let listed = false
      const http = replay([], {
        intercept: ({ url }) =>
          url.searchParams.get("symbols") === "QQQ" && !listed
            ? new Response(JSON.stringify({ quoteResponse: { result: [], error: null } }))
            : undefined
      })
      const source = yield* sourceOf({ symbols: ["QQQ"] }, http.fetch, "resume")
      const before = yield* tickAndTrack(source, http, 8)
      assert.deepStrictEqual(before.get("QQQ"), [0, 2, 5])
      listed = true
      // Ticks 8..15: it is still paused at 8 and 9 (4 ticks after tick 5), answers at 10, then every tick.
      const after = yield* tickAndTrack(source, http, 8)
      assert.deepStrictEqual(after.get("QQQ"), [2, 3, 4, 5, 6, 7])
      const resumed = (yield* logged).filter((line) => line.message.startsWith("symbol known to Yahoo again"))
      assert.deepStrictEqual(
        resumed.map((line) => [line.level, line.subject, line.unknown_answers]),
        [["INFO", "QQQ", 3]]
      )
      assert.strictEqual((yield* Metric.value(Metrics.forSource(unknownSymbols, "resume"))).value, 0)
    }).pipe(Effect.provide(layer))
  )

  it.effect("an unknown chart symbol (Yahoo's 404) backs off too; the good one is fetched every tick", () =>
    Effect.gen(function* () {
      const http = replay(["sluice-chart-NOPE-404.json"])
      const source = yield* sourceOf(
        { mode: "chart", period1: "2020-01-01", period2: "2020-01-03", symbols: ["NOPE", "GC=F"] },
        http.fetch,
        "charts"
      )
      const asked = yield* tickAndTrack(source, http, 20)
      assert.deepStrictEqual(asked.get("GC=F"), everyTick(20))
      assert.deepStrictEqual(asked.get("NOPE"), [0, 2, 5, 10, 19])
      const warnings = (yield* logged).filter((line) => line.message === "fetch failed in part")
      assert.strictEqual(warnings.length, 5)
      assert.match(String(warnings[0]?.error), /^unknown symbol: Yahoo has no such symbol or data \(HTTP 404/)
    }).pipe(Effect.provide(layer))
  )

  it.effect("an answer without a quote list (result: null) is reported but backs nothing off", () =>
    Effect.gen(function* () {
      const http = replay([], {
        intercept: ({ url }) =>
          url.pathname.startsWith("/v7/finance/quote")
            ? new Response(JSON.stringify({ quoteResponse: { result: null, error: { code: "busy" } } }))
            : undefined
      })
      const source = yield* sourceOf({ symbols: ["AAPL"] }, http.fetch, "nulls")
      const asked = yield* tickAndTrack(source, http, 3)
      assert.deepStrictEqual(asked.get("AAPL"), [0, 1, 2])
      const report = yield* Ingest.tick(source, router)
      assert.deepStrictEqual(report.fetchFailures, [
        { subject: "AAPL", reason: "Yahoo answered without a quote list (result: null)", retryable: false }
      ])
      assert.deepStrictEqual(report.payloads[0]?.issues, ['Yahoo reported an error: {"code":"busy"}'])
    }).pipe(Effect.provide(layer))
  )
})
