/**
 * The events this source emits and their payloads: small, stable, JSON-only shapes (not Yahoo's
 * whole object), snake_case like the canonical event fields. A field Yahoo did not send is `null`.
 */

/** Event type of a quote: the instrument's regular-market state at `market_time`. */
export const QUOTE_UPDATED = "quote.updated"
/** Event type of a finished OHLCV bar (bars still in progress are never emitted). */
export const BAR_CLOSED = "bar.closed"
/** Entity type of both events; the entity id is the Yahoo symbol. */
export const ENTITY_TYPE = "instrument"
/** Payload schema version of both events. */
export const SCHEMA_VERSION = 1

/** Payload of `quote.updated` (schema_version 1). */
export interface QuotePayload {
  readonly symbol: string
  /** shortName, else longName, else displayName. */
  readonly name: string | null
  /** EQUITY, ETF, MUTUALFUND, INDEX, CURRENCY, CRYPTOCURRENCY, FUTURE, OPTION... */
  readonly quote_type: string | null
  readonly currency: string | null
  /** Yahoo's exchange code, e.g. NMS, CCC, CCY, CMX. */
  readonly exchange: string | null
  /** IANA time zone of the exchange, e.g. America/New_York. */
  readonly exchange_timezone: string | null
  /** PREPRE, PRE, REGULAR, POST, POSTPOST or CLOSED. */
  readonly market_state: string | null
  /** regularMarketTime as ISO-8601 UTC: also the event's occurred_at. */
  readonly market_time: string
  /** regularMarketPrice. */
  readonly price: number
  readonly change: number | null
  readonly change_percent: number | null
  readonly previous_close: number | null
  readonly open: number | null
  readonly day_high: number | null
  readonly day_low: number | null
  readonly volume: number | null
  readonly bid: number | null
  readonly ask: number | null
}

/** Payload of `bar.closed` (schema_version 1). */
export interface BarPayload {
  readonly symbol: string
  /** Bar size as Yahoo reported it (meta.dataGranularity), e.g. 1m, 1h, 1d. */
  readonly interval: string
  /** Bar start, ISO-8601 UTC: also the event's occurred_at. */
  readonly start: string
  /** Bar end (start + interval), ISO-8601 UTC. */
  readonly end: string
  readonly open: number
  readonly high: number
  readonly low: number
  readonly close: number
  /** Close adjusted for splits and dividends (daily and longer bars only). */
  readonly adj_close: number | null
  readonly volume: number | null
  readonly currency: string | null
  readonly exchange: string | null
}

/** Natural key of a quote: one event per (symbol, regular-market time). */
export const quoteKey = (symbol: string, marketTimeIso: string): string => `quote:${symbol}@${marketTimeIso}`

/** Natural key of a bar: one event per (symbol, interval, bar start). */
export const barKey = (symbol: string, interval: string, startIso: string): string =>
  `bar:${symbol}:${interval}@${startIso}`
