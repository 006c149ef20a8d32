/**
 * The plugin's config: a strict Effect Schema, decoded by `Plugin.decodeConfig` (which reports every
 * bad field with its path and rejects unknown keys). Two modes share the common fields: `quote`
 * (current quotes, polled) and `chart` (OHLCV bars over a time range: the backfill path). A field of
 * the other mode is an error naming that field, not silently ignored.
 */
import { DurationText } from "@sluice/core"
import { DateTime, Schema, SchemaTransformation } from "effect"

/** Bar sizes Yahoo's chart endpoint accepts. */
export const intervals = ["1m", "2m", "5m", "15m", "30m", "60m", "90m", "1h", "1d", "5d", "1wk", "1mo", "3mo"] as const
export type ChartInterval = (typeof intervals)[number]

/**
 * A Yahoo symbol: `AAPL`, `BTC-USD`, `EURUSD=X`, `GC=F`, `^GSPC`, `0P000071W8.TO`... No spaces or
 * commas (quote requests join symbols with commas), at most 40 characters.
 */
export const YahooSymbol = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(/^[A-Za-z0-9^=.\-_&]{1,40}$/, {
      expected: "a Yahoo symbol such as AAPL, BTC-USD, EURUSD=X, GC=F or ^GSPC (no spaces or commas)"
    })
  )
)

/** Durations are core's `DurationText` (re-exported for this package's users). */
export { DurationText }

const ISO_DATE = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?Z)?$/

/** A UTC instant: `2020-01-01` (midnight UTC) or `2020-01-01T14:30:00Z`. */
export const UtcInstant = Schema.String.pipe(
  Schema.check(Schema.isPattern(ISO_DATE, { expected: "a UTC date (2020-01-01) or instant (2020-01-01T14:30:00Z)" })),
  Schema.decodeTo(Schema.DateTimeUtc, SchemaTransformation.dateTimeUtcFromString)
)

const quoteOnly = ["fields", "symbolsPerRequest"] as const
const chartOnly = ["interval", "period1", "period2", "lookback", "includePrePost"] as const

const fields = {
  /** `"quote"`: current quotes; `"chart"`: OHLCV bars over a range. @default "quote" */
  mode: Schema.optionalKey(Schema.Literals(["quote", "chart"])),
  /** The symbols to fetch: at least one, each once. */
  symbols: Schema.Array(YahooSymbol).pipe(
    Schema.check(
      Schema.isMinLength(1, { expected: "at least one symbol" }),
      Schema.isUnique({ expected: "each symbol only once" })
    )
  ),
  /**
   * Longest time one request to Yahoo may take (including the cookie/crumb handshake); a timed-out
   * request is a retryable failure. @default "10 seconds"
   */
  requestTimeout: Schema.optionalKey(DurationText),
  /** How often the runner should tick this source (the `interval` of `Ingest.run`). @default "1 minute" */
  pollInterval: Schema.optionalKey(DurationText),
  /** Requests in flight at once. @default 4 */
  concurrency: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 32 })))),
  /**
   * (quote) Ask Yahoo for these quote fields only; Yahoo always adds `symbol`, `regularMarketPrice`
   * and `regularMarketTime`, and payload fields it did not send are `null`. @default all fields
   */
  fields: Schema.optionalKey(
    Schema.Array(
      Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9]+$/, { expected: "a Yahoo quote field name" })))
    ).pipe(Schema.check(Schema.isMinLength(1, { expected: "at least one field (or leave fields out)" })))
  ),
  /** (quote) Symbols per quote request: Yahoo answers a batch in one response. @default 50 */
  symbolsPerRequest: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 200 })))),
  /** (chart) Bar size. @default "1d" */
  interval: Schema.optionalKey(Schema.Literals(intervals)),
  /** (chart) Start of the range, inclusive. Give exactly one of `period1` and `lookback`. */
  period1: Schema.optionalKey(UtcInstant),
  /** (chart) End of the range, exclusive. @default the time of each fetch */
  period2: Schema.optionalKey(UtcInstant),
  /** (chart) A range ending at each fetch, e.g. `"2 days"`: for polling recent bars. */
  lookback: Schema.optionalKey(DurationText),
  /** (chart) Include pre- and post-market bars (intraday intervals). @default true (as Yahoo) */
  includePrePost: Schema.optionalKey(Schema.Boolean)
}

/**
 * The rules across fields: no setting of the other mode; in chart mode one of `period1` and
 * `lookback`, and `period1` before `period2`. Exported for configs that extend this one.
 */
export const modeRules = Schema.makeFilter((config: Schema.Struct.Type<typeof fields>) => {
  const issues: Array<Schema.FilterIssue> = []
  const mode = config.mode ?? "quote"
  const foreign = mode === "quote" ? chartOnly : quoteOnly
  for (const key of foreign) {
    if (config[key] !== undefined) issues.push({ path: [key], issue: `${key} is not a ${mode}-mode setting` })
  }
  if (mode === "chart") {
    if (config.period1 === undefined && config.lookback === undefined) {
      issues.push({ path: ["period1"], issue: "chart mode needs period1 (a start date) or lookback (a duration)" })
    }
    if (config.period1 !== undefined && config.lookback !== undefined) {
      issues.push({ path: ["lookback"], issue: "give period1 or lookback, not both" })
    }
    if (config.period2 !== undefined && config.lookback !== undefined) {
      issues.push({ path: ["period2"], issue: "period2 cannot be combined with lookback (which ends at each fetch)" })
    }
    if (
      config.period1 !== undefined &&
      config.period2 !== undefined &&
      !DateTime.isLessThan(config.period1, config.period2)
    ) {
      issues.push({ path: ["period1"], issue: "period1 must be before period2" })
    }
  }
  return issues
})

/**
 * The plugin config. Defaults are applied where the source is made (YFinanceSource.ts), so a decoded config keeps
 * exactly what the user wrote.
 */
export const YFinanceConfig = Schema.Struct(fields).check(modeRules)
export type YFinanceConfig = typeof YFinanceConfig.Type
