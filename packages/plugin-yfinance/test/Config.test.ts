import { assert, describe, it } from "@effect/vitest"
import { Plugin, Sources } from "@sluice/core"
import { Duration, Effect, Layer } from "effect"
import { layerFetch, YFinancePlugin, type YFinanceSource } from "../src/index.ts"
import { replay } from "./support/recordings.ts"

const decode = (config: unknown) => Plugin.decodeConfig(YFinancePlugin, "prices", config)
const errorOf = (config: unknown) => Effect.map(Effect.flip(decode(config)), (error) => error.message)

describe("config", () => {
  it.effect("a list of symbols is enough; defaults apply in the source", () =>
    Effect.gen(function* () {
      const config = yield* decode({ symbols: ["AAPL"] })
      assert.deepStrictEqual(config, { symbols: ["AAPL"] })
      const source = (yield* YFinancePlugin.make(config, "prices").pipe(
        Effect.provide(layerFetch(replay().fetch))
      )) as YFinanceSource
      assert.strictEqual(source.name, "prices")
      assert.strictEqual(Duration.toMillis(source.pollInterval), 60_000)
    })
  )

  it.effect("chart mode with dates decodes them to UTC instants", () =>
    Effect.gen(function* () {
      const config = yield* decode({
        mode: "chart",
        symbols: ["AAPL"],
        interval: "1h",
        period1: "2020-01-01",
        period2: "2020-01-03T14:30:00Z"
      })
      assert.strictEqual(config.period1?.epochMilliseconds, Date.UTC(2020, 0, 1))
      assert.strictEqual(config.period2?.epochMilliseconds, Date.UTC(2020, 0, 3, 14, 30))
    })
  )

  const bad: ReadonlyArray<readonly [what: string, config: unknown, message: RegExp]> = [
    ["no symbols", { symbols: [] }, /Expected at least one symbol\n\s+at \["symbols"\]/],
    ["a symbol twice", { symbols: ["AAPL", "AAPL"] }, /Expected each symbol only once\n\s+at \["symbols"\]/],
    ["a symbol with a comma", { symbols: ["AAPL,MSFT"] }, /Expected a Yahoo symbol .*\n\s+at \["symbols"\]\[0\]/],
    ["no symbols key", { mode: "quote" }, /at \["symbols"\]/],
    ["an unknown mode", { mode: "bars", symbols: ["AAPL"] }, /Expected "quote" \| "chart"\n\s+at \["mode"\]/],
    [
      "an unknown interval",
      { mode: "chart", symbols: ["AAPL"], interval: "7m", period1: "2020-01-01" },
      /Expected "1m" \| .*\n\s+at \["interval"\]/
    ],
    [
      "period1 after period2",
      { mode: "chart", symbols: ["AAPL"], period1: "2020-01-05", period2: "2020-01-03" },
      /period1 must be before period2\n\s+at \["period1"\]/
    ],
    [
      "a chart without a range",
      { mode: "chart", symbols: ["AAPL"] },
      /needs period1 .* or lookback .*\n\s+at \["period1"\]/
    ],
    [
      "period1 and lookback",
      { mode: "chart", symbols: ["AAPL"], period1: "2020-01-01", lookback: "2 days" },
      /give period1 or lookback, not both\n\s+at \["lookback"\]/
    ],
    [
      "a bad date",
      { mode: "chart", symbols: ["AAPL"], period1: "01/02/2020" },
      /Expected a UTC date .*\n\s+at \["period1"\]/
    ],
    [
      "a chart setting in quote mode",
      { symbols: ["AAPL"], interval: "1d" },
      /interval is not a quote-mode setting\n\s+at \["interval"\]/
    ],
    [
      "a quote setting in chart mode",
      { mode: "chart", symbols: ["AAPL"], lookback: "1 day", symbolsPerRequest: 5 },
      /symbolsPerRequest is not a chart-mode setting\n\s+at \["symbolsPerRequest"\]/
    ],
    [
      "a bad duration",
      { symbols: ["AAPL"], requestTimeout: "soon" },
      /Expected a positive duration .*\n\s+at \["requestTimeout"\]/
    ],
    ["a zero duration", { symbols: ["AAPL"], pollInterval: "0 seconds" }, /at \["pollInterval"\]/],
    ["an out-of-range batch size", { symbols: ["AAPL"], symbolsPerRequest: 0 }, /at \["symbolsPerRequest"\]/],
    ["an unknown key", { symbols: ["AAPL"], symbol: "MSFT" }, /Expected no excess property\n\s+at \["symbol"\]/]
  ]
  for (const [what, config, message] of bad) {
    it.effect(`rejects ${what}, naming the field`, () =>
      Effect.gen(function* () {
        const text = yield* errorOf(config)
        assert.match(text, /^invalid config for prices \(plugin @sluice\/plugin-yfinance\):/)
        assert.match(text, message)
      })
    )
  }
})

describe("YFinancePlugin", () => {
  it.effect("layer registers a source named after the instance", () =>
    Effect.gen(function* () {
      const sources = yield* (yield* Sources).all
      assert.deepStrictEqual(
        sources.map((s) => s.name),
        ["aapl-quotes"]
      )
    }).pipe(
      Effect.provide(
        YFinancePlugin.layer({ symbols: ["AAPL"] }, "aapl-quotes").pipe(
          Layer.provideMerge(Sources.layer),
          Layer.provide(layerFetch(replay().fetch))
        )
      )
    )
  )

  it.effect("layer fails with PluginConfigError on a bad config", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(YFinancePlugin.layer({ symbols: [] }).pipe(Layer.provide(Sources.layer)))
      )
      assert.strictEqual(error._tag, "PluginConfigError")
      assert.match(error.message, /at \["symbols"\]/)
    })
  )
})
