/**
 * The README's projection example: a read model of the Yahoo events, kept by an async projection
 * in the same database as the store (so each event is applied exactly once), and rebuilt from
 * scratch by resetting its checkpoint. The test runs it on PGlite against the recorded Yahoo
 * responses the plugin ships.
 */
// #region read-model
import { type LoggedEvent, Projection } from "@sluice/core"
import { BAR_CLOSED, type BarPayload, QUOTE_UPDATED, type QuotePayload } from "@sluice/plugin-yfinance"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

/** The read model: the latest quote per symbol, and one OHLC row per symbol and (UTC) day. */
export const createReadModel = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE IF NOT EXISTS latest_quotes (
    symbol text PRIMARY KEY, price float8 NOT NULL, currency text, market_time timestamptz NOT NULL)`
  // A day's row comes from its daily bar once there is one (final); until then, quotes fold into it.
  yield* sql`CREATE TABLE IF NOT EXISTS daily_ohlc (
    symbol text, day date, open float8 NOT NULL, high float8 NOT NULL, low float8 NOT NULL,
    close float8 NOT NULL, volume float8, as_of timestamptz NOT NULL, source text NOT NULL,
    PRIMARY KEY (symbol, day))`
})

const applyQuote = (q: QuotePayload) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      INSERT INTO latest_quotes (symbol, price, currency, market_time)
      VALUES (${q.symbol}, ${q.price}, ${q.currency}, ${q.market_time}::timestamptz)
      ON CONFLICT (symbol) DO UPDATE SET price = excluded.price, currency = excluded.currency,
        market_time = excluded.market_time
      WHERE latest_quotes.market_time <= excluded.market_time`
    yield* sql`
      INSERT INTO daily_ohlc AS d (symbol, day, open, high, low, close, volume, as_of, source)
      VALUES (${q.symbol}, (${q.market_time}::timestamptz AT TIME ZONE 'UTC')::date, ${q.price}, ${q.price},
              ${q.price}, ${q.price}, ${q.volume}, ${q.market_time}::timestamptz, 'quotes')
      ON CONFLICT (symbol, day) DO UPDATE SET high = greatest(d.high, excluded.high),
        low = least(d.low, excluded.low), close = excluded.close, volume = excluded.volume, as_of = excluded.as_of
      WHERE d.source = 'quotes' AND d.as_of <= excluded.as_of`
  })

const applyBar = (b: BarPayload) =>
  Effect.gen(function* () {
    if (b.interval !== "1d") return
    const sql = yield* SqlClient.SqlClient
    yield* sql`
      INSERT INTO daily_ohlc (symbol, day, open, high, low, close, volume, as_of, source)
      VALUES (${b.symbol}, (${b.start}::timestamptz AT TIME ZONE 'UTC')::date, ${b.open}, ${b.high}, ${b.low},
              ${b.close}, ${b.volume}, ${b.end}::timestamptz, 'bar')
      ON CONFLICT (symbol, day) DO UPDATE SET open = excluded.open, high = excluded.high, low = excluded.low,
        close = excluded.close, volume = excluded.volume, as_of = excluded.as_of, source = 'bar'`
  })

/** The projection: its rows commit with its checkpoint, in the store's database. */
export const yahooReadModel = Projection.make({
  name: "yahoo-read-model",
  eventTypes: [QUOTE_UPDATED, BAR_CLOSED],
  apply: (e: LoggedEvent) =>
    e.event.event_type === QUOTE_UPDATED
      ? applyQuote(e.event.payload as unknown as QuotePayload)
      : applyBar(e.event.payload as unknown as BarPayload),
  reset: Effect.flatMap(SqlClient.SqlClient, (sql) => Effect.asVoid(sql`TRUNCATE latest_quotes, daily_ohlc`))
})
// #endregion read-model

// #region run
/** Creates the tables, then keeps the read model up to date in the current scope. */
export const runReadModel = Effect.andThen(createReadModel, Projection.start(yahooReadModel))

/** Empties the read model and replays the whole log into it (a running projection starts over too). */
export const rebuildReadModel = Effect.andThen(Projection.rebuild(yahooReadModel), Projection.catchUp(yahooReadModel))
// #endregion run
