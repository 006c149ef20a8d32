/**
 * The README's plugin example: Yahoo Finance (quotes and daily bars) -> a store -> the console
 * transport and a signed webhook, composed in code from the plugins' layers. The test runs it on
 * embedded PGlite against recorded Yahoo responses and a local webhook receiver.
 */
// #region yahoo
import { OutboxAdmin, Pipeline, type Plugin, type Route, Sources, Transports } from "@sluice/core"
import { YFinancePlugin } from "@sluice/plugin-yfinance"
import { ConsoleTransportPlugin } from "@sluice/transport-console"
import { HttpTransportPlugin } from "@sluice/transport-http"
import { Effect, Layer } from "effect"

export const routes: ReadonlyArray<Route> = [
  { name: "quotes-to-console", transport: "console", topic: "quotes", match: ["quote.updated"] },
  { name: "bars-to-webhook", transport: "webhook", topic: "bars", match: ["bar.closed"], ordered: true }
]

/** The plugin instances, each decoded from its config (errors name the bad field) and registered. */
export const plugins = (
  webhookUrl: string,
  secret: string
): Layer.Layer<Sources | Transports, Plugin.PluginConfigError | Plugin.PluginStartError> =>
  Layer.mergeAll(
    YFinancePlugin.layer({ symbols: ["AAPL", "BABA"] }, "quotes"),
    YFinancePlugin.layer(
      { mode: "chart", symbols: ["AAPL", "BTC-USD"], interval: "1d", period1: "2020-01-01", period2: "2020-01-03" },
      "bars"
    ),
    ConsoleTransportPlugin.layer({ format: "json" }, "console"),
    HttpTransportPlugin.layer({ url: webhookUrl, secrets: [secret] }, "webhook")
  ).pipe(Layer.provideMerge(Layer.merge(Sources.layer, Transports.layer)))

/** Every registered source (each ticks at once, then at its own interval), the relay delivering. */
export const pipeline = Pipeline.make({ routes })

/** Runs the pipeline until both routes have delivered and nothing is pending; returns the outbox stats. */
export const ingestAndDeliver = Effect.scoped(
  Effect.gen(function* () {
    yield* Pipeline.start(yield* pipeline)
    const admin = yield* OutboxAdmin
    const done = Effect.map(
      admin.stats,
      (stats) => stats.pending === 0 && routes.every((route) => (stats.byRoute[route.name]?.delivered ?? 0) > 0)
    )
    while (!(yield* done)) yield* Effect.sleep("20 millis")
    return yield* admin.stats
  })
)
// #endregion yahoo
