/**
 * The README's plugin example: Yahoo Finance (quotes and daily bars) -> a store -> the console
 * transport and a signed webhook, composed in code from the plugins' layers. The test runs it on
 * embedded PGlite against recorded Yahoo responses and a local webhook receiver.
 */
// #region yahoo
import { EventStore, Ingest, makeRouter, type Plugin, Relay, type Route, Sources, Transports } from "@sluice/core"
import { YFinance } from "@sluice/plugin-yfinance"
import { ConsoleTransportPlugin } from "@sluice/transport-console"
import { HttpTransportPlugin } from "@sluice/transport-http"
import { Effect, Fiber, Layer } from "effect"

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
    YFinance.layer({ symbols: ["AAPL", "BABA"] }, "quotes"),
    YFinance.layer(
      { mode: "chart", symbols: ["AAPL", "BTC-USD"], interval: "1d", period1: "2020-01-01", period2: "2020-01-03" },
      "bars"
    ),
    ConsoleTransportPlugin.layer({ format: "json" }, "console"),
    HttpTransportPlugin.layer({ url: webhookUrl, secrets: [secret] }, "webhook")
  ).pipe(Layer.provideMerge(Layer.merge(Sources.layer, Transports.layer)))

/** One tick of every source, then a relay until the outbox is empty; returns the outbox stats. */
export const ingestAndDeliver = Effect.gen(function* () {
  const router = yield* makeRouter(routes)
  for (const source of yield* (yield* Sources).all) yield* Ingest.tick(source, router)
  const relay = yield* Effect.forkChild(Relay.run({ routes }))
  const store = yield* EventStore
  while ((yield* store.stats).pending > 0) yield* Effect.sleep("20 millis")
  yield* Fiber.interrupt(relay)
  return yield* store.stats
})
// #endregion yahoo
