/**
 * `@sluice/plugin-yfinance`: a Sluice source for Yahoo Finance quotes (`quote.updated`) and chart
 * bars (`bar.closed`) through yahoo-finance2.
 */
export * from "./Config.ts"
export * from "./Payloads.ts"
export * from "./Plugin.ts"
export * from "./Request.ts"
export { transform } from "./Transform.ts"
export { classifyStatus, YahooRequestError } from "./YahooClient.ts"
export * from "./YahooFetch.ts"
export type { YFinanceSource } from "./YFinanceSource.ts"
