/**
 * Transformer for /v7/finance/quote responses: each quote with a symbol, a regular-market time and
 * price becomes a `quote.updated` draft; every other entry is named in an issue.
 */
import type { EventDraft, TransformResult } from "@sluice/core"
import { DateTime, Result, Schema, SchemaIssue } from "effect"
import { isObject, optionalNumber, optionalString, show } from "./internal/read.ts"
import { ENTITY_TYPE, QUOTE_UPDATED, type QuotePayload, quoteKey, SCHEMA_VERSION } from "./Payloads.ts"

/** Yahoo's quote envelope: `{ quoteResponse: { result: [...], error: null } }`. */
export const QuoteEnvelope = Schema.Struct({
  quoteResponse: Schema.Struct({
    result: Schema.NullOr(Schema.Array(Schema.Unknown)),
    error: Schema.optionalKey(Schema.Unknown)
  })
})
export type QuoteEnvelope = typeof QuoteEnvelope.Type

/** The fields a quote cannot become an event without. */
const QuoteCore = Schema.Struct({
  symbol: Schema.String.pipe(Schema.check(Schema.isNonEmpty())),
  regularMarketTime: Schema.Int.pipe(
    Schema.check(Schema.isBetween({ minimum: 1, maximum: 7_258_118_400 }, { expected: "epoch seconds" }))
  ),
  regularMarketPrice: Schema.Finite
})
const decodeCore = Schema.decodeUnknownResult(QuoteCore)
const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * Symbols of the entries of a quote envelope that Yahoo knows (for the connector's "which symbols
 * are unknown"): an entry with `quoteType: "NONE"` is Yahoo's way of saying it knows no such
 * instrument, like leaving the symbol out.
 */
export const knownSymbols = (envelope: QuoteEnvelope): ReadonlyArray<string> =>
  (envelope.quoteResponse.result ?? []).flatMap((entry) =>
    isObject(entry) && typeof entry.symbol === "string" && entry.quoteType !== "NONE" ? [entry.symbol] : []
  )

const transformQuote = (entry: unknown, index: number, issues: Array<string>): EventDraft | undefined => {
  const label = isObject(entry) && typeof entry.symbol === "string" ? entry.symbol : `quote #${index}`
  if (!isObject(entry)) {
    issues.push(`${label}: expected an object but got ${show(entry)}; no event`)
    return undefined
  }
  // The connector reports it as an unknown symbol, as it does a symbol left out of the answer.
  if (entry.quoteType === "NONE") return undefined
  const core = decodeCore(entry, { errors: "all" })
  if (Result.isFailure(core)) {
    const detail = formatIssue(core.failure.issue).replace(/\n\s*/g, " ")
    issues.push(`${label}: cannot place the quote in time or price it (${detail}); no event`)
    return undefined
  }
  const { symbol, regularMarketTime, regularMarketPrice } = core.success
  const marketTime = DateTime.formatIso(DateTime.makeUnsafe(regularMarketTime * 1000))
  const num = (key: string) => optionalNumber(entry, key, symbol, issues)
  const str = (key: string) => optionalString(entry, key, symbol, issues)
  const shortName = str("shortName")
  const longName = str("longName")
  const displayName = str("displayName")
  const payload: QuotePayload = {
    symbol,
    name: shortName ?? longName ?? displayName,
    quote_type: str("quoteType"),
    currency: str("currency"),
    exchange: str("exchange"),
    exchange_timezone: str("exchangeTimezoneName"),
    market_state: str("marketState"),
    market_time: marketTime,
    price: regularMarketPrice,
    change: num("regularMarketChange"),
    change_percent: num("regularMarketChangePercent"),
    previous_close: num("regularMarketPreviousClose"),
    open: num("regularMarketOpen"),
    day_high: num("regularMarketDayHigh"),
    day_low: num("regularMarketDayLow"),
    volume: num("regularMarketVolume"),
    bid: num("bid"),
    ask: num("ask")
  }
  return {
    event_type: QUOTE_UPDATED,
    entity_type: ENTITY_TYPE,
    entity_id: symbol,
    occurred_at: DateTime.makeUnsafe(regularMarketTime * 1000),
    payload,
    schema_version: SCHEMA_VERSION,
    natural_key: quoteKey(symbol, marketTime)
  }
}

/**
 * Turns a decoded quote envelope into drafts and issues. Unknown symbols are not issues here
 * (neither one left out nor one with `quoteType: "NONE"`): the connector reports both as the same
 * fetch failure.
 */
export const transformQuotes = (envelope: QuoteEnvelope): TransformResult => {
  const issues: Array<string> = []
  const events: Array<EventDraft> = []
  const { error, result } = envelope.quoteResponse
  if (error !== undefined && error !== null) issues.push(`Yahoo reported an error: ${show(error)}`)
  ;(result ?? []).forEach((entry, index) => {
    const draft = transformQuote(entry, index, issues)
    if (draft !== undefined) events.push(draft)
  })
  return { events, issues }
}
