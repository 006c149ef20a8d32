/**
 * The `fetch` yahoo-finance2 uses, as an optional dependency: production gets `globalThis.fetch`
 * without wiring anything; tests provide a fetch that replays recorded exchanges
 * (`@sluice/plugin-yfinance/testing`), so no request leaves the process.
 */
import { Context, Layer } from "effect"

/** A `fetch`-compatible function. */
export type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/**
 * The fetch every instance of the plugin hands to yahoo-finance2.
 * @default `globalThis.fetch`, looked up at call time
 */
export const YahooFetch = Context.Reference<FetchFn>("@sluice/plugin-yfinance/YahooFetch", {
  defaultValue: () => (input, init) => globalThis.fetch(input, init)
})

/** Provides `fetch` as the plugin's fetch (e.g. a replaying fetch in tests, or a proxying one). */
export const layerFetch = (fetch: FetchFn): Layer.Layer<never> => Layer.succeed(YahooFetch, fetch)
