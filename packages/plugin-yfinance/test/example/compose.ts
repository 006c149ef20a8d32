/**
 * The README's composition example, compiled by tsc and run by Readme.test.ts (which also checks
 * that the README shows exactly this text between the region markers).
 */
// #region compose
import { Ingest, layerMemory, makeRouterUnsafe, Plugin } from "@sluice/core"
import { YFinancePlugin } from "@sluice/plugin-yfinance"
import { Effect } from "effect"

const router = makeRouterUnsafe([
  { name: "prices", transport: "console", topic: "prices", match: ["quote.updated", "bar.closed"] }
])

// Decode the config as the runner would (errors name the bad field), then build the source.
const source = Effect.flatMap(
  Plugin.decodeConfig(YFinancePlugin, "prices", { symbols: ["AAPL", "BABA"], requestTimeout: "5 seconds" }),
  (config) => YFinancePlugin.make(config, "prices")
)

/** One tick: fetch, keep Yahoo's bodies, append events and outbox rows in one transaction. */
export const tickOnce = Effect.gen(function* () {
  return yield* Ingest.tick(yield* source, router)
}).pipe(Effect.scoped, Effect.provide(layerMemory))

/** Forever: a tick every minute, backing off after failed ticks. */
export const runForever = Effect.gen(function* () {
  return yield* Ingest.run(yield* source, router, { interval: "1 minute" })
}).pipe(Effect.scoped, Effect.provide(layerMemory))
// #endregion
