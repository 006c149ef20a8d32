/**
 * `@sluice/plugin-yfinance/read-model`: a read model of the Yahoo events in the store's database
 * (the latest quote per symbol, one OHLC row per symbol and UTC day), kept by an async projection:
 * its rows commit with its checkpoint, so each event is applied exactly once. The runner loads it
 * as a projection plugin (`projections` in the config); code uses `makeReadModel` directly.
 */
import { type LoggedEvent, Plugin, Projection } from "@sluice/core"
import { Data, Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { BAR_CLOSED, QUOTE_UPDATED } from "./Payloads.ts"

/** What the read model reads of a quote: a payload without it fails its batch, naming the field. */
const QuoteFields = Schema.Struct({
  symbol: Schema.String,
  price: Schema.Finite,
  currency: Schema.NullOr(Schema.String),
  market_time: Schema.String.pipe(Schema.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}T/))),
  volume: Schema.NullOr(Schema.Finite)
})

/** What the read model reads of a bar. */
const BarFields = Schema.Struct({
  symbol: Schema.String,
  interval: Schema.String,
  start: Schema.String.pipe(Schema.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}T/))),
  end: Schema.String.pipe(Schema.check(Schema.isPattern(/^\d{4}-\d{2}-\d{2}T/))),
  open: Schema.Finite,
  high: Schema.Finite,
  low: Schema.Finite,
  close: Schema.Finite,
  volume: Schema.NullOr(Schema.Finite)
})

/** A Yahoo event whose payload the read model cannot read (not one the plugin made). */
export class ReadModelPayloadError extends Data.TaggedError("ReadModelPayloadError")<{
  readonly eventId: string
  readonly eventType: string
  readonly reason: string
}> {
  override get message() {
    return `the read model cannot read event ${this.eventId} (${this.eventType}): ${this.reason}`
  }
}

/** The fields `fields` reads of `e`'s payload, or a ReadModelPayloadError naming the bad one. */
const read =
  <A>(fields: Schema.Codec<A, unknown>) =>
  (e: LoggedEvent): Effect.Effect<A, ReadModelPayloadError> =>
    Schema.decodeUnknownEffect(fields)(e.event.payload).pipe(
      Effect.mapError(
        (error) =>
          new ReadModelPayloadError({
            eventId: e.event.event_id,
            eventType: e.event.event_type,
            reason: error.message.replace(/\n\s*/g, " ")
          })
      )
    )
const readQuote = read(QuoteFields)
const readBar = read(BarFields)

// #region read-model
/**
 * The read model's tables in `schema`: the latest quote per symbol, one OHLC row per symbol and
 * (UTC) day, and the quotes a day's row is folded from (kept so that a correction, which replaces a
 * quote, replaces its effect on the day's open, high and low too).
 */
const tablesIn = (sql: SqlClient.SqlClient, schema: string) => ({
  quotes: sql(`${schema}.latest_quotes`),
  days: sql(`${schema}.daily_ohlc`),
  points: sql(`${schema}.quote_points`)
})

const setup = (schema: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const t = tablesIn(sql, schema)
    yield* sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`
    yield* sql`CREATE TABLE IF NOT EXISTS ${t.quotes} (
      symbol text PRIMARY KEY, price float8 NOT NULL, currency text, market_time timestamptz NOT NULL)`
    // A day's row comes from its daily bar once there is one (final); until then, quotes fold into it.
    yield* sql`CREATE TABLE IF NOT EXISTS ${t.days} (
      symbol text, day date, open float8 NOT NULL, high float8 NOT NULL, low float8 NOT NULL,
      close float8 NOT NULL, volume float8, as_of timestamptz NOT NULL, source text NOT NULL,
      PRIMARY KEY (symbol, day))`
    yield* sql`CREATE TABLE IF NOT EXISTS ${t.points} (
      symbol text, market_time timestamptz, price float8 NOT NULL, volume float8,
      PRIMARY KEY (symbol, market_time))`
  })

/**
 * A quote: the latest price, its point, and its day. A quote later than the day's last one folds in
 * at once; a correction (it replaces a point) or a quote arriving out of order folds the day again
 * from its points (a range of their primary key), so the day is right in any order.
 */
const applyQuote = (schema: string, q: typeof QuoteFields.Type, corrects: boolean) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const t = tablesIn(sql, schema)
    yield* sql`
      INSERT INTO ${t.quotes} AS l (symbol, price, currency, market_time)
      VALUES (${q.symbol}, ${q.price}, ${q.currency}, ${q.market_time}::timestamptz)
      ON CONFLICT (symbol) DO UPDATE SET price = excluded.price, currency = excluded.currency,
        market_time = excluded.market_time
      WHERE l.market_time <= excluded.market_time`
    // A quote's key is its symbol and market time: a correction of it replaces its point.
    yield* sql`
      INSERT INTO ${t.points} (symbol, market_time, price, volume)
      VALUES (${q.symbol}, ${q.market_time}::timestamptz, ${q.price}, ${q.volume})
      ON CONFLICT (symbol, market_time) DO UPDATE SET price = excluded.price, volume = excluded.volume`
    const folded = corrects
      ? []
      : yield* sql`
      INSERT INTO ${t.days} AS d (symbol, day, open, high, low, close, volume, as_of, source)
      VALUES (${q.symbol}, (${q.market_time}::timestamptz AT TIME ZONE 'UTC')::date, ${q.price}, ${q.price},
              ${q.price}, ${q.price}, ${q.volume}, ${q.market_time}::timestamptz, 'quotes')
      ON CONFLICT (symbol, day) DO UPDATE SET high = greatest(d.high, excluded.high),
        low = least(d.low, excluded.low), close = excluded.close, volume = excluded.volume, as_of = excluded.as_of
      WHERE d.source = 'quotes' AND d.as_of < excluded.as_of
      RETURNING 1`
    if (folded.length > 0) return
    yield* sql`
      INSERT INTO ${t.days} AS d (symbol, day, open, high, low, close, volume, as_of, source)
      SELECT p.symbol, (${q.market_time}::timestamptz AT TIME ZONE 'UTC')::date,
             (array_agg(p.price ORDER BY p.market_time))[1], max(p.price), min(p.price),
             (array_agg(p.price ORDER BY p.market_time DESC))[1],
             (array_agg(p.volume ORDER BY p.market_time DESC))[1], max(p.market_time), 'quotes'
      FROM ${t.points} p
      WHERE p.symbol = ${q.symbol}
        AND p.market_time >= date_trunc('day', ${q.market_time}::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
        AND p.market_time < (date_trunc('day', ${q.market_time}::timestamptz AT TIME ZONE 'UTC') + interval '1 day') AT TIME ZONE 'UTC'
      GROUP BY p.symbol
      ON CONFLICT (symbol, day) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume, as_of = excluded.as_of
      WHERE d.source = 'quotes'`
  })

const applyBar = (schema: string, b: typeof BarFields.Type) =>
  Effect.gen(function* () {
    if (b.interval !== "1d") return
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      INSERT INTO ${tablesIn(sql, schema).days} (symbol, day, open, high, low, close, volume, as_of, source)
      VALUES (${b.symbol}, (${b.start}::timestamptz AT TIME ZONE 'UTC')::date, ${b.open}, ${b.high}, ${b.low},
              ${b.close}, ${b.volume}, ${b.end}::timestamptz, 'bar')
      ON CONFLICT (symbol, day) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume, as_of = excluded.as_of, source = 'bar'`
  })

/** The projection named `name`, its tables in `schema`: its rows commit with its checkpoint. */
export const makeReadModel = (name: string, schema = "public") => ({
  setup: setup(schema),
  projection: Projection.make({
    name,
    eventTypes: [QUOTE_UPDATED, BAR_CLOSED],
    apply: (e: LoggedEvent) =>
      e.event.event_type === QUOTE_UPDATED
        ? Effect.flatMap(readQuote(e), (q) => applyQuote(schema, q, e.event.supersedes !== undefined))
        : Effect.flatMap(readBar(e), (b) => applyBar(schema, b)),
    reset: Effect.flatMap(SqlClient.SqlClient, (sql) => {
      const t = tablesIn(sql, schema)
      return Effect.asVoid(sql`TRUNCATE ${t.quotes}, ${t.days}, ${t.points}`)
    })
  })
})
// #endregion read-model

/** The read model's tables belong to another pipeline's store schema (ReadModel `claim`). */
export class ReadModelOwnedError extends Data.TaggedError("ReadModelOwnedError")<{
  readonly schema: string
  readonly owner: string
  readonly storeSchema: string
}> {
  override get message() {
    return `the read model's tables in schema "${this.schema}" belong to the pipeline whose store schema is "${this.owner}", not "${this.storeSchema}": two pipelines replaying into the same rows corrupt each other's, and a rebuild of one empties the other's. Give this projection its own options.schema`
  }
}

/**
 * Records which store schema (the pipeline whose checkpoint it follows) the tables in `schema`
 * belong to, and refuses another: the runner runs it before the projection starts and before a
 * rebuild. The first pipeline to set the tables up owns them.
 */
const claim = (schema: string, storeSchema: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const owners = sql(`${schema}.read_model_owner`)
    yield* sql`CREATE TABLE IF NOT EXISTS ${owners} (read_model text PRIMARY KEY, store_schema text NOT NULL)`
    yield* sql`INSERT INTO ${owners} (read_model, store_schema) VALUES ('yahoo', ${storeSchema})
      ON CONFLICT (read_model) DO NOTHING`
    const [row] = yield* sql<{ readonly store_schema: string }>`
      SELECT store_schema FROM ${owners} WHERE read_model = 'yahoo'`
    if (row !== undefined && row.store_schema !== storeSchema)
      return yield* new ReadModelOwnedError({ schema, owner: row.store_schema, storeSchema })
  })

/** The newest rows of each table (latest quotes by symbol; daily rows newest day first), at most `limit` each. */
const show = (schema: string) => (limit: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const t = tablesIn(sql, schema)
    const quotes = yield* sql`
      SELECT symbol, price, currency, market_time FROM ${t.quotes} ORDER BY symbol LIMIT ${limit}`
    const days = yield* sql`
      SELECT symbol, day::text AS day, open, high, low, close, volume, source FROM ${t.days}
      ORDER BY day DESC, symbol LIMIT ${limit}`
    // ::int: count(*) is a bigint, a string from postgres.js and a number from PGlite.
    const [counts] = yield* sql<{ readonly quotes: number; readonly days: number }>`
      SELECT (SELECT count(*) FROM ${t.quotes})::int AS quotes, (SELECT count(*) FROM ${t.days})::int AS days`
    return [
      { name: `${schema}.latest_quotes`, rows: quotes, total: counts!.quotes },
      { name: `${schema}.daily_ohlc`, rows: days, total: counts!.days }
    ]
  })

// #region plugin
/** The read model's options in a config file. */
export const YahooReadModelConfig = Schema.Struct({
  /** The SQL schema of its tables (created if missing). @default "public" */
  schema: Schema.optionalKey(
    Schema.String.pipe(
      Schema.check(Schema.isPattern(/^[a-z_][a-z0-9_]{0,62}$/, { expected: "a lower-case SQL identifier" }))
    )
  )
})
export type YahooReadModelConfig = typeof YahooReadModelConfig.Type

/**
 * Builds the read model named `instance` (its checkpoint's key) from decoded options. Run by the
 * runner (which says its store schema), its setup first claims the tables for that store schema.
 */
export const make = (config: YahooReadModelConfig, instance: string, context?: Plugin.ProjectionContext) => {
  const schema = config.schema ?? "public"
  const model = makeReadModel(instance, schema)
  const storeSchema = context?.storeSchema
  return Effect.succeed({
    ...model,
    setup: storeSchema === undefined ? model.setup : Effect.andThen(model.setup, claim(schema, storeSchema)),
    show: show(schema)
  })
}

/** The projection plugin the runner loads: `{ "name": "yahoo-read-model", "plugin": "@sluice/plugin-yfinance/read-model" }`. */
export const YahooReadModelPlugin = Plugin.defineProjection({
  name: "@sluice/plugin-yfinance/read-model",
  config: YahooReadModelConfig,
  usesSql: true,
  make
})
// #endregion plugin
