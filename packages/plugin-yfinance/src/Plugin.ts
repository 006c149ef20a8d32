/**
 * `YFinance`: the plugin value the runner loads (kind "source"), built with core's `Plugin.define`.
 */
import { Plugin } from "@sluice/core"
import { Effect } from "effect"
import { YFinanceConfig } from "./Config.ts"
import { YahooFetch } from "./YahooFetch.ts"
import { makeSource } from "./YFinanceSource.ts"

/**
 * The Yahoo Finance source plugin. `YFinance.layer(config, instance?)` decodes the config (errors
 * name each bad field) and registers the source in `Sources`; `YFinance.make(config, instance)`
 * builds it from a decoded config. HTTP goes through the `YahooFetch` reference
 * (@default globalThis.fetch).
 */
export const YFinance = Plugin.define({
  name: "@sluice/plugin-yfinance",
  kind: "source",
  config: YFinanceConfig,
  make: (config, instance) =>
    Effect.gen(function* () {
      return makeSource(config, instance, yield* YahooFetch)
    })
})
