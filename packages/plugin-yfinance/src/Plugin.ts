/**
 * `YFinancePlugin`: the plugin value the runner loads (kind "source"), built with core's `Plugin.define`.
 */
import { Plugin } from "@sluice/core"
import { Effect } from "effect"
import { YFinanceConfig } from "./Config.ts"
import { YahooFetch } from "./YahooFetch.ts"
import { makeSource, type YFinanceSource } from "./YFinanceSource.ts"

/**
 * Builds a source named `instance` from a decoded config. HTTP goes through the `YahooFetch`
 * reference (@default globalThis.fetch; `layerFetch` provides another).
 */
export const make = (config: YFinanceConfig, instance: string): Effect.Effect<YFinanceSource> =>
  Effect.gen(function* () {
    return makeSource(config, instance, yield* YahooFetch)
  })

/**
 * The Yahoo Finance source plugin. `YFinancePlugin.layer(config, instance?)` decodes the config
 * (errors name each bad field) and registers the source in `Sources`; `make` builds it from a
 * decoded config.
 */
export const YFinancePlugin = Plugin.define({
  name: "@sluice/plugin-yfinance",
  kind: "source",
  config: YFinanceConfig,
  make
})
