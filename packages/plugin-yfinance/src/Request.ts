/**
 * Request descriptors: what the connector asked Yahoo for, stored as JSON beside each raw payload
 * (`raw_payloads.request`) so an auditor can tell what a response answers without replaying it.
 * The URL is kept without its `crumb` (a session secret).
 */

/** A /v7/finance/quote request for a batch of symbols. */
export interface QuoteRequest {
  readonly endpoint: "quote"
  /** The request URL as sent, minus `crumb`. */
  readonly url: string
  readonly symbols: ReadonlyArray<string>
  readonly fields: ReadonlyArray<string> | null
  /** HTTP status of the response. */
  readonly status: number
}

/** A /v8/finance/chart request for one symbol's bars. */
export interface ChartRequest {
  readonly endpoint: "chart"
  readonly url: string
  readonly symbol: string
  readonly interval: string
  /** Range start (inclusive), ISO-8601 UTC. */
  readonly period1: string
  /** Range end (exclusive), ISO-8601 UTC. */
  readonly period2: string
  readonly include_pre_post: boolean
  readonly status: number
}

export type RequestDescriptor = QuoteRequest | ChartRequest

/** The URL without query parameters that are session secrets. */
export const redactUrl = (url: string): string => {
  const parsed = new URL(url)
  parsed.searchParams.delete("crumb")
  return parsed.href
}
