/**
 * Transformer for /v8/finance/chart responses: each finished OHLCV bar becomes a `bar.closed`
 * draft. Bars still in progress when the payload was received, bars without prices, and series
 * that cannot be aligned with their timestamps are named in issues instead.
 */
import type { EventDraft, TransformResult } from "@sluice/core"
import { DateTime, Schema } from "effect"
import { fromEpochSeconds, isObject, type JsonObject, optionalNumber, optionalString, show } from "./internal/read.ts"
import { BAR_CLOSED, type BarPayload, barKey, ENTITY_TYPE, SCHEMA_VERSION } from "./Payloads.ts"

/** Yahoo's chart envelope: `{ chart: { result: [...] | null, error: ... } }`. */
export const ChartEnvelope = Schema.Struct({
  chart: Schema.Struct({
    result: Schema.NullOr(Schema.Array(Schema.Unknown)),
    error: Schema.optionalKey(Schema.Unknown)
  })
})
export type ChartEnvelope = typeof ChartEnvelope.Type

const BAR_LENGTH: Readonly<Record<string, Partial<DateTime.DateTime.PartsForMath>>> = {
  "1m": { minutes: 1 },
  "2m": { minutes: 2 },
  "5m": { minutes: 5 },
  "15m": { minutes: 15 },
  "30m": { minutes: 30 },
  "60m": { hours: 1 },
  "90m": { minutes: 90 },
  "1h": { hours: 1 },
  "1d": { days: 1 },
  // Five trading days: a calendar week is the safe upper bound for "has it closed?".
  "5d": { weeks: 1 },
  "1wk": { weeks: 1 },
  "1mo": { months: 1 },
  "3mo": { months: 3 }
}

/** When a bar of `interval` starting at `start` ends, or undefined for an unknown interval. */
export const barEnd = (start: DateTime.Utc, interval: string): DateTime.Utc | undefined => {
  const length = BAR_LENGTH[interval]
  return length === undefined ? undefined : DateTime.add(start, length)
}

const PRICE_FIELDS = ["open", "high", "low", "close"] as const

/** The series of one result, or why they cannot be read. */
const readSeries = (
  indicators: unknown,
  bars: number
): { readonly quote: JsonObject; readonly adjclose: ReadonlyArray<unknown> | null } | string => {
  if (!isObject(indicators)) return `indicators should be an object but is ${show(indicators)}`
  const quotes = indicators.quote
  if (!Array.isArray(quotes) || quotes.length !== 1 || !isObject(quotes[0])) {
    return `indicators.quote should hold exactly one series object but is ${show(quotes)}`
  }
  const quote = quotes[0]
  for (const field of [...PRICE_FIELDS, "volume"]) {
    const series = quote[field]
    if (series === undefined && field === "volume") continue
    if (!Array.isArray(series)) return `indicators.quote[0].${field} should be an array but is ${show(series)}`
    if (series.length !== bars) {
      return `indicators.quote[0].${field} has ${series.length} values for ${bars} timestamps`
    }
  }
  const adj = Array.isArray(indicators.adjclose) && isObject(indicators.adjclose[0]) ? indicators.adjclose[0] : null
  const adjclose = adj !== null && Array.isArray(adj.adjclose) ? adj.adjclose : null
  if (adjclose !== null && adjclose.length !== bars) {
    return `indicators.adjclose[0].adjclose has ${adjclose.length} values for ${bars} timestamps`
  }
  return { quote, adjclose }
}

/** True when a result without timestamps carries no values at all (an empty range, e.g. a holiday). */
const isEmptySeries = (indicators: unknown): boolean => {
  if (!isObject(indicators)) return true
  const quotes = indicators.quote
  if (quotes === undefined) return true
  if (!Array.isArray(quotes)) return false
  return quotes.every(
    (quote) => isObject(quote) && Object.values(quote).every((v) => Array.isArray(v) && v.length === 0)
  )
}

interface ChartContext {
  /** The interval asked for (from the request descriptor), used when Yahoo's meta has none. */
  readonly requestedInterval: string | undefined
  /** The symbol asked for, used when Yahoo's meta has none. */
  readonly requestedSymbol: string | undefined
  /** When the payload was received: a bar ending later was still open. */
  readonly receivedAt: DateTime.Utc
}

const transformResult = (entry: unknown, context: ChartContext, issues: Array<string>): Array<EventDraft> => {
  if (!isObject(entry)) {
    issues.push(`chart result should be an object but is ${show(entry)}; no events`)
    return []
  }
  const meta = isObject(entry.meta) ? entry.meta : {}
  const symbol = (typeof meta.symbol === "string" && meta.symbol) || context.requestedSymbol
  if (symbol === undefined) {
    issues.push("chart result has no meta.symbol and the request named none; no events")
    return []
  }
  const interval = (typeof meta.dataGranularity === "string" && meta.dataGranularity) || context.requestedInterval
  const where = `${symbol} ${interval ?? "?"}`
  if (interval === undefined || BAR_LENGTH[interval] === undefined) {
    issues.push(`${where}: unknown bar interval ${show(interval)}, so bars cannot be closed; no events`)
    return []
  }
  const timestamps = entry.timestamp
  if (timestamps === undefined || timestamps === null) {
    if (!isEmptySeries(entry.indicators)) {
      issues.push(`${where}: price series without timestamps (${show(entry.indicators)}); no events`)
    }
    return []
  }
  if (!Array.isArray(timestamps)) {
    issues.push(`${where}: timestamp should be an array but is ${show(timestamps)}; no events`)
    return []
  }
  const series = readSeries(entry.indicators, timestamps.length)
  if (typeof series === "string") {
    issues.push(`${where}: ${series}; no events for its ${timestamps.length} bar(s)`)
    return []
  }
  const currency = optionalString(meta, "currency", where, issues)
  const exchange = optionalString(meta, "exchangeName", where, issues)
  const events: Array<EventDraft> = []
  timestamps.forEach((ts, i) => {
    const start = fromEpochSeconds(ts)
    if (typeof start === "string") {
      issues.push(`${where} bar #${i}: timestamp ${start}; no event`)
      return
    }
    const startIso = DateTime.formatIso(start)
    const at = `${where} bar ${startIso}`
    const end = barEnd(start, interval) as DateTime.Utc
    if (DateTime.isGreaterThan(end, context.receivedAt)) {
      issues.push(`${at}: still open when received (it ends ${DateTime.formatIso(end)}); no event until it closes`)
      return
    }
    const row: JsonObject = Object.fromEntries(
      [...PRICE_FIELDS, "volume"].map((field) => [
        field,
        (series.quote[field] as ReadonlyArray<unknown> | undefined)?.[i]
      ])
    )
    const missing = PRICE_FIELDS.filter((field) => row[field] === null || row[field] === undefined)
    if (missing.length === PRICE_FIELDS.length) {
      issues.push(`${at}: no prices (no trades in the interval?); no event`)
      return
    }
    if (missing.length > 0) {
      issues.push(`${at}: missing ${missing.join(", ")}; no event`)
      return
    }
    const bad = PRICE_FIELDS.filter((field) => typeof row[field] !== "number" || !Number.isFinite(row[field]))
    if (bad.length > 0) {
      issues.push(`${at}: ${bad.map((field) => `${field} is ${show(row[field])}`).join(", ")}; no event`)
      return
    }
    const adjclose =
      series.adjclose === null ? null : optionalNumber({ adjclose: series.adjclose[i] }, "adjclose", at, issues)
    const payload: BarPayload = {
      symbol,
      interval,
      start: startIso,
      end: DateTime.formatIso(end),
      open: row.open as number,
      high: row.high as number,
      low: row.low as number,
      close: row.close as number,
      adj_close: adjclose,
      volume: optionalNumber(row, "volume", at, issues),
      currency,
      exchange
    }
    events.push({
      event_type: BAR_CLOSED,
      entity_type: ENTITY_TYPE,
      entity_id: symbol,
      occurred_at: start,
      payload,
      schema_version: SCHEMA_VERSION,
      natural_key: barKey(symbol, interval, startIso)
    })
  })
  return events
}

/** Turns a decoded chart envelope into drafts and issues. */
export const transformChart = (envelope: ChartEnvelope, context: ChartContext): TransformResult => {
  const issues: Array<string> = []
  const { error, result } = envelope.chart
  if (error !== undefined && error !== null) issues.push(`Yahoo reported an error: ${show(error)}`)
  const events = (result ?? []).flatMap((entry) => transformResult(entry, context, issues))
  return { events, issues }
}
