/**
 * `@sluice/plugin-yfinance/testing`: replay recorded Yahoo exchanges through the real library.
 */
export * from "../ReplayFetch.ts"
