import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect } from "effect"
import { BAR_CLOSED, type BarPayload, QUOTE_UPDATED, type QuotePayload, transform } from "../src/index.ts"
import { rawOf } from "./support/raw.ts"
import { fixtureNames } from "./support/recordings.ts"

const iso = (seconds: number) => DateTime.formatIso(DateTime.makeUnsafe(seconds * 1000))

/** Every recorded quote response: the instruments it must yield, with their quote type and currency. */
const quoteCases: ReadonlyArray<{
  readonly file: string
  readonly quotes: ReadonlyArray<
    readonly [symbol: string, type: string, currency: string | null, time: number, price: number]
  >
}> = [
  { file: "quote-AAPL.json", quotes: [["AAPL", "EQUITY", "USD", 1739566800, 244.6]] },
  {
    file: "quote-AAPL-BABA.json",
    quotes: [
      ["AAPL", "EQUITY", "USD", 1739566800, 244.6],
      ["BABA", "EQUITY", "USD", 1739566802, 124.73]
    ]
  },
  { file: "quote-BTC-USD.json", quotes: [["BTC-USD", "CRYPTOCURRENCY", "USD", 1739789580, 96077.45]] },
  { file: "quote-EURUSD=X.json", quotes: [["EURUSD=X", "CURRENCY", "USD", 1739789683, 1.0489877]] },
  { file: "quote-GC=F.json", quotes: [["GC=F", "FUTURE", "USD", 1739789091, 2910.3]] },
  { file: "quote-0P000071W8.TO.json", quotes: [["0P000071W8.TO", "MUTUALFUND", "CAD", 1739563200, 152.63]] },
  { file: "quote-QQQ.json", quotes: [["QQQ", "ETF", "USD", 1739566801, 538.15]] },
  { file: "quote-^VXAPL.json", quotes: [["^VXAPL", "INDEX", "USD", 1739566922, 23.77]] },
  { file: "quote-OCDO.L.json", quotes: [["OCDO.L", "EQUITY", "GBp", 1739788724, 308.8]] },
  // Partial-field responses: what Yahoo did not send is null, not invented.
  { file: "quote-MSFT-fields-beta.json", quotes: [["MSFT", "EQUITY", null, 1739566800, 408.43]] },
  { file: "quote-TSLA-fields-symbol-shortName.json", quotes: [["TSLA", "EQUITY", null, 1739566801, 355.84]] },
  // An expired option: Yahoo answers with no quote (the connector reports the symbol).
  { file: "quote-AAPL220121C00025000.json", quotes: [] }
]

describe("transform: quote responses", () => {
  it("covers every recorded quote fixture", () => {
    const recorded = fixtureNames.filter((name) => name.startsWith("quote-"))
    assert.deepStrictEqual([...recorded].sort(), quoteCases.map((c) => c.file).sort())
  })

  for (const { file, quotes } of quoteCases) {
    it.effect(`${file} -> ${quotes.length} quote.updated`, () =>
      Effect.gen(function* () {
        const result = yield* transform(yield* rawOf(file))
        assert.deepStrictEqual(result.issues, [])
        assert.strictEqual(result.events.length, quotes.length)
        quotes.forEach(([symbol, type, currency, time, price], i) => {
          const event = result.events[i]!
          const payload = event.payload as QuotePayload
          assert.strictEqual(event.event_type, QUOTE_UPDATED)
          assert.strictEqual(event.entity_type, "instrument")
          assert.strictEqual(event.entity_id, symbol)
          assert.strictEqual(DateTime.formatIso(event.occurred_at), iso(time))
          assert.strictEqual(event.natural_key, `quote:${symbol}@${iso(time)}`)
          assert.strictEqual(event.schema_version, 1)
          assert.strictEqual(payload.symbol, symbol)
          assert.strictEqual(payload.quote_type, type)
          assert.strictEqual(payload.currency, currency)
          assert.strictEqual(payload.price, price)
          assert.strictEqual(payload.market_time, iso(time))
          // JSON-only: survives a round trip unchanged.
          assert.deepStrictEqual(JSON.parse(JSON.stringify(payload)), payload)
        })
      })
    )
  }

  it.effect("AAPL's payload is the small documented shape", () =>
    Effect.gen(function* () {
      const result = yield* transform(yield* rawOf("quote-AAPL.json"))
      assert.deepStrictEqual(result.events[0]!.payload, {
        symbol: "AAPL",
        name: "Apple Inc.",
        quote_type: "EQUITY",
        currency: "USD",
        exchange: "NMS",
        exchange_timezone: "America/New_York",
        market_state: "CLOSED",
        market_time: "2025-02-14T21:00:00.000Z",
        price: 244.6,
        change: 3.0700073,
        change_percent: 1.2710667,
        previous_close: 241.53,
        open: 241.07,
        day_high: 245.41,
        day_low: 241,
        volume: 40896227,
        bid: 244.44,
        ask: 253.37
      })
    })
  )

  it.effect("odd fields: each bad quote is named, odd optional fields become null with an issue", () =>
    Effect.gen(function* () {
      const result = yield* transform(yield* rawOf("sluice-quote-odd-fields.json"))
      assert.deepStrictEqual(
        result.events.map((e) => e.entity_id),
        ["ODD3"]
      )
      const payload = result.events[0]!.payload as QuotePayload
      assert.strictEqual(payload.bid, null)
      assert.strictEqual(payload.name, null)
      assert.strictEqual(payload.volume, 1200)
      const text = result.issues.join("\n")
      assert.strictEqual(result.issues.length, 4)
      assert.match(text, /ODD1: cannot place the quote in time or price it \(.*regularMarketPrice.*\); no event/)
      assert.match(text, /ODD2: cannot place the quote in time or price it \(.*regularMarketTime.*\); no event/)
      assert.match(text, /ODD3: field bid should be a finite number but is "n\/a"; recorded as null/)
      assert.match(text, /ODD3: field shortName should be a non-empty string but is ""; recorded as null/)
      // quoteType NONE is an unknown symbol: the connector reports it (QuoteSource.test.ts), not the transformer.
      assert.notInclude(text, "ODD4")
    })
  )

  it.effect("a body that is not JSON fails the payload with a TransformError", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(transform(yield* rawOf("sluice-quote-html.json")))
      assert.strictEqual(error._tag, "TransformError")
      assert.match(error.reason, /not JSON.*<!DOCTYPE html>/)
    })
  )
})

describe("transform: chart responses", () => {
  it.effect("daily AAPL bar: shape, occurred_at and natural key", () =>
    Effect.gen(function* () {
      const result = yield* transform(yield* rawOf("chart-AAPL-2020-01-01-to-2020-01-03.json"))
      assert.deepStrictEqual(result.issues, [])
      assert.strictEqual(result.events.length, 1)
      const event = result.events[0]!
      assert.strictEqual(event.event_type, BAR_CLOSED)
      assert.strictEqual(event.entity_type, "instrument")
      assert.strictEqual(event.entity_id, "AAPL")
      assert.strictEqual(DateTime.formatIso(event.occurred_at), "2020-01-02T14:30:00.000Z")
      assert.strictEqual(event.natural_key, "bar:AAPL:1d@2020-01-02T14:30:00.000Z")
      assert.deepStrictEqual(event.payload, {
        symbol: "AAPL",
        interval: "1d",
        start: "2020-01-02T14:30:00.000Z",
        end: "2020-01-03T14:30:00.000Z",
        open: 74.05999755859375,
        high: 75.1500015258789,
        low: 73.79750061035156,
        close: 75.0875015258789,
        adj_close: 72.71607208251953,
        volume: 135480400,
        currency: "USD",
        exchange: "NMS"
      } satisfies BarPayload)
    })
  )

  const chartCases: ReadonlyArray<readonly [file: string, symbol: string, bars: number]> = [
    ["chart-AAPL.json", "AAPL", 1],
    ["chart-BTC-USD-2020-01-01-to-2020-01-03.json", "BTC-USD", 3],
    ["chart-EURUSD=X-2020-01-01-to-2020-01-03.json", "EURUSD=X", 3],
    ["chart-GC=F-2020-01-01-to-2020-01-03.json", "GC=F", 1],
    // A Saturday of 1-minute bars, and a holiday of hourly bars (.fake): empty ranges, not errors.
    ["chart-AAPL-2025-02-01-to-2025-02-02-includePrePost-false-interval-1m.json", "AAPL", 0],
    ["chart-TSLA-2025-01-01-to-2025-01-02-interval-1h.fake.json", "TSLA", 0]
  ]
  for (const [file, symbol, bars] of chartCases) {
    it.effect(`${file} -> ${bars} bar.closed`, () =>
      Effect.gen(function* () {
        const result = yield* transform(yield* rawOf(file))
        assert.deepStrictEqual(result.issues, [])
        assert.strictEqual(result.events.length, bars)
        const keys = new Set(result.events.map((e) => e.natural_key))
        assert.strictEqual(keys.size, bars)
        for (const event of result.events) {
          const payload = event.payload as BarPayload
          assert.strictEqual(event.entity_id, symbol)
          assert.strictEqual(payload.start, DateTime.formatIso(event.occurred_at))
          assert.strictEqual(event.natural_key, `bar:${symbol}:${payload.interval}@${payload.start}`)
          assert.isTrue(payload.low <= payload.open && payload.open <= payload.high)
        }
      })
    )
  }

  it("covers every recorded chart fixture", () => {
    const covered = new Set([
      "chart-AAPL-2020-01-01-to-2020-01-03.json",
      ...chartCases.map(([file]) => file),
      "chart-notimestamp-quotes-length.fake.json",
      "chart-notimestamp-weird-quote.fake.json"
    ])
    assert.deepStrictEqual(
      fixtureNames.filter((name) => name.startsWith("chart-") && !covered.has(name)),
      []
    )
  })

  for (const file of ["chart-notimestamp-quotes-length.fake.json", "chart-notimestamp-weird-quote.fake.json"]) {
    it.effect(`${file}: prices without timestamps are named, not dropped`, () =>
      Effect.gen(function* () {
        const result = yield* transform(yield* rawOf(file))
        assert.strictEqual(result.events.length, 0)
        assert.strictEqual(result.issues.length, 1)
        assert.match(result.issues[0]!, /^AAPL 1d: price series without timestamps .*75\.0875.*; no events$/)
      })
    )
  }

  it.effect("null and partial bars are named; the complete bar becomes an event", () =>
    Effect.gen(function* () {
      const result = yield* transform(yield* rawOf("sluice-chart-XYZ-null-bars.json"))
      assert.deepStrictEqual(
        result.events.map((e) => (e.payload as BarPayload).start),
        ["2020-01-02T14:30:00.000Z"]
      )
      assert.deepStrictEqual(result.issues, [
        "XYZ 1d bar 2020-01-03T14:30:00.000Z: no prices (no trades in the interval?); no event",
        "XYZ 1d bar 2020-01-06T14:30:00.000Z: missing close; no event"
      ])
    })
  )

  it.effect("series that do not line up with the timestamps are refused as a whole", () =>
    Effect.gen(function* () {
      const result = yield* transform(yield* rawOf("sluice-chart-XYZ-length-mismatch.json"))
      assert.strictEqual(result.events.length, 0)
      assert.deepStrictEqual(result.issues, [
        "XYZ 1d: indicators.quote[0].open has 1 values for 2 timestamps; no events for its 2 bar(s)"
      ])
    })
  )

  it.effect("a bar still open when the payload was received is named, and emitted once closed", () =>
    Effect.gen(function* () {
      const file = "chart-BTC-USD-2020-01-01-to-2020-01-03.json"
      const early = yield* transform(yield* rawOf(file, { receivedAt: DateTime.makeUnsafe(Date.UTC(2020, 0, 3, 12)) }))
      assert.deepStrictEqual(
        early.events.map((e) => e.natural_key),
        ["bar:BTC-USD:1d@2020-01-01T00:00:00.000Z", "bar:BTC-USD:1d@2020-01-02T00:00:00.000Z"]
      )
      assert.deepStrictEqual(early.issues, [
        "BTC-USD 1d bar 2020-01-03T00:00:00.000Z: still open when received (it ends 2020-01-04T00:00:00.000Z); no event until it closes"
      ])
      const late = yield* transform(yield* rawOf(file, { receivedAt: DateTime.makeUnsafe(Date.UTC(2020, 0, 4)) }))
      assert.strictEqual(late.events.length, 3)
      assert.deepStrictEqual(late.issues, [])
    })
  )

  it.effect("the interval comes from the request when Yahoo's meta has none", () =>
    Effect.gen(function* () {
      const raw = yield* rawOf("chart-GC=F-2020-01-01-to-2020-01-03.json", {
        request: { endpoint: "chart", symbol: "GC=F", interval: "1wk" }
      })
      const body = JSON.parse(raw.body) as { chart: { result: Array<{ meta: Record<string, unknown> }> } }
      delete body.chart.result[0]!.meta.dataGranularity
      const result = yield* transform({ ...raw, body: JSON.stringify(body) })
      assert.strictEqual((result.events[0]!.payload as BarPayload).interval, "1wk")
      assert.match(result.events[0]!.natural_key!, /^bar:GC=F:1wk@/)
    })
  )

  it.effect("a JSON body that is neither a quote nor a chart is a TransformError", () =>
    Effect.gen(function* () {
      const raw = yield* rawOf("quote-AAPL.json")
      const error = yield* Effect.flip(transform({ ...raw, body: '{"finance":{"result":null}}' }))
      assert.match(error.reason, /neither a quote .* nor a chart/)
      const bad = yield* Effect.flip(transform({ ...raw, body: '{"chart":{"result":"nope"}}' }))
      assert.match(bad.reason, /^not a chart response: /)
    })
  )
})
