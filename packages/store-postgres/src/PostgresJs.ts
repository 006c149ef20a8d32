/**
 * Effect's SqlClient on postgres.js: statements go straight to the pool (no reservation per
 * statement), a transaction holds one connection through postgres.js' `begin`, and LISTEN uses postgres.js' own dedicated
 * listener connection. This is the only file that knows postgres.js.
 */

import { setImmediate } from "node:timers"
import { Config, Context, Duration, Effect, Layer, Redacted, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, type SqlError } from "effect/sql"
import postgres from "postgres"
import * as DirectStatement from "./DirectStatement.ts"
import { makeCompiler } from "./PgCompiler.ts"
import { toSqlError } from "./PgErrors.ts"
import { notifyStatement, PgNotifications } from "./PgNotifications.ts"

/** How to reach PostgreSQL. */
export interface PostgresJsOptions {
  /** A `postgres://` URL. */
  readonly url: Redacted.Redacted<string> | string
  /** Connections in the pool. @default 10 */
  readonly poolSize?: number
  /** Reported to the server as `application_name`. @default "sluice" */
  readonly applicationName?: string
  /** Seconds before an idle pooled connection is closed (0: never). @default 0 */
  readonly idleTimeout?: number
  /**
   * Seconds the server has to answer when the pool opens (and each connection attempt). Without it,
   * statements wait for good on a host that drops packets: postgres.js keeps them queued.
   * @default 10
   */
  readonly connectTimeout?: number
}

type Params = Array<postgres.ParameterOrJSON<never>>
type Rows = ReadonlyArray<Record<string, unknown>>
type Transform = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

const run = <A>(operation: string, query: () => PromiseLike<A>): Effect.Effect<A, SqlError.SqlError> =>
  Effect.tryPromise({ try: () => query(), catch: (cause) => toSqlError(cause, operation) })

const transformed = (rows: Rows, transformRows: Transform): ReadonlyArray<unknown> =>
  transformRows ? transformRows(rows) : rows

// postgres.js' `unsafe` does NOT prepare unless asked: every statement would then be parsed,
// described (one more round trip) and planned again. Measured: 1.1k single-event appends/s
// unprepared against 2.5k/s prepared.
const prepared = { prepare: true } as const

/** A SqlConnection over the pool or over one connection. */
const makeConnection = (pg: postgres.Sql): SqlConnection.Connection => ({
  execute: (sql, params, transformRows) =>
    Effect.map(
      run("execute", () => pg.unsafe(sql, params as Params, prepared)),
      (rows) => transformed(rows, transformRows)
    ),
  executeRaw: (sql, params) => run("executeRaw", () => pg.unsafe(sql, params as Params, prepared)),
  executeStream: (sql, params, transformRows) =>
    Stream.fromAsyncIterable(pg.unsafe(sql, params as Params, prepared).cursor(256), (cause) =>
      toSqlError(cause, "executeStream")
    ).pipe(Stream.flatMap((rows) => Stream.fromIterable(transformed(rows, transformRows)))),
  executeValues: (sql, params) => run("executeValues", () => pg.unsafe(sql, params as Params, prepared).values()),
  executeValuesUnprepared: (sql, params) =>
    run("executeValues", () => pg.unsafe(sql, params as Params, { prepare: false }).values()),
  executeUnprepared: (sql, params, transformRows) =>
    Effect.map(
      run("executeUnprepared", () => pg.unsafe(sql, params as Params, { prepare: false })),
      (rows) => transformed(rows, transformRows)
    )
})

/** The postgres.js client, closed with the scope. */
export const makePool = (options: PostgresJsOptions) => {
  const url = typeof options.url === "string" ? options.url : Redacted.value(options.url)
  const seconds = options.connectTimeout ?? 10
  const problem = urlProblem(url)
  if (problem !== undefined)
    return Effect.fail(toSqlError(Object.assign(new Error(problem), { code: "INVALID_URL" }), "connect"))
  return Effect.acquireRelease(
    Effect.sync(() =>
      postgres(url, {
        max: options.poolSize ?? 10,
        idle_timeout: options.idleTimeout ?? 0,
        connect_timeout: seconds,
        onnotice: () => {},
        connection: { application_name: options.applicationName ?? "sluice" }
      })
    ),
    // By the time the scope closes no statement should be running; the timeout bounds the wait,
    // which postgres.js 3.4.9 otherwise spends in full after a connection was terminated. The outer
    // bound covers a pool still trying to connect.
    (pg) =>
      Effect.promise(() => pg.end({ timeout: 1 })).pipe(
        Effect.timeoutOrElse({ duration: Duration.seconds(3), orElse: () => Effect.void })
      )
  ).pipe(
    Effect.tap((pg) => reachable(pg, seconds, url)),
    Effect.tap((pg) => Effect.sync(() => keepArrayTypes(pg)))
  )
}

/** text[]: it has a serializer once postgres.js has fetched the array types. */
const TEXT_ARRAY_OID = 1009

/**
 * postgres.js 3.4.9 asks for the array types on every connection it opens (`fetch_types`) and drops
 * that query's promise: when the query fails (its backend terminated by pg_terminate_backend or a
 * restart while the connection opens), the error escapes as an unhandled rejection, which ends the
 * process (porsager/postgres#1223; a relay died of it in the chaos suite). The types land in the
 * pool's shared options, so once the first connection has them (`reachable`), later connections
 * skip the query, and with it the window (and a round trip). The first connection's window
 * remains, at start-up only.
 */
const keepArrayTypes = (pg: postgres.Sql): void => {
  if (pg.options.serializers[TEXT_ARRAY_OID] !== undefined) pg.options.fetch_types = false
}

/** Why `url` cannot name a PostgreSQL server (without echoing it: it may hold a password), or undefined. */
const urlProblem = (url: string): string | undefined => {
  if (!URL.canParse(url)) return "url: not a URL (expected postgres://user@host:port/database)"
  const scheme = new URL(url).protocol
  return scheme === "postgres:" || scheme === "postgresql:"
    ? undefined
    : `url: the scheme is ${scheme} (expected postgres:// or postgresql://)`
}

/** Where a URL points, without its credentials. */
const whereOf = (url: string): string => {
  if (!URL.canParse(url)) return "the configured URL"
  const parsed = new URL(url)
  return `${parsed.hostname}:${parsed.port || 5432}`
}

/** The server answers within `seconds`, or the pool fails to open with a SqlError saying so. */
const reachable = (pg: postgres.Sql, seconds: number, url: string) =>
  run("connect", () => pg.unsafe("SELECT 1")).pipe(
    Effect.timeoutOrElse({
      duration: Duration.seconds(seconds),
      orElse: () =>
        Effect.fail(
          toSqlError(
            Object.assign(
              new Error(
                `no answer from PostgreSQL at ${whereOf(url)} within ${seconds}s (a wrong host or port, or a firewall dropping packets?)`
              ),
              { code: "CONNECT_TIMEOUT" }
            ),
            "connect"
          )
        )
    }),
    Effect.asVoid
  )

/** Raised inside postgres.js' `begin` callback to make it roll back. */
class RollbackSignal extends Error {}

/**
 * A transaction's connection, held by postgres.js' `sql.begin`. postgres.js sends BEGIN and
 * COMMIT/ROLLBACK itself, so the SqlClient's transaction statements are mapped onto it: BEGIN is a
 * no-op, COMMIT and ROLLBACK settle the callback and await the outcome.
 *
 * Why not `reserve()`: postgres.js 3.4.9 writes to a connection the server has terminated when it is
 * reserved (or held by `begin`), and the write throws an uncaught TypeError that ends the process.
 * `begin` at least reports the close (its promise rejects with CONNECTION_CLOSED); from then on this
 * connection refuses every statement itself and never settles the callback, so nothing more is
 * written to the dead socket.
 */
const beginTransaction = (pg: postgres.Sql) =>
  Effect.acquireRelease(
    Effect.callback<TransactionHandle, SqlError.SqlError>((resume) => {
      const state: { settle: (commit: boolean) => void; lost: unknown } = { settle: () => {}, lost: undefined }
      const decided = new Promise<boolean>((resolve) => {
        state.settle = resolve
      })
      let started = false
      const outcome = pg.begin(async (tx) => {
        started = true
        resume(Effect.succeed({ connection: transactionConnection(tx, state, () => outcome), state }))
        if (!(await decided)) throw new RollbackSignal()
      })
      outcome.catch((cause: unknown) => {
        if (!(cause instanceof RollbackSignal)) state.lost = cause
        if (!started) resume(Effect.fail(toSqlError(cause, "begin")))
      })
    }),
    ({ state }) => Effect.sync(() => state.lost === undefined && state.settle(false))
  ).pipe(Effect.map(({ connection }) => connection))

interface TransactionState {
  settle: (commit: boolean) => void
  /** Set once postgres.js reported the connection lost: nothing may be written to it any more. */
  lost: unknown
}

interface TransactionHandle {
  readonly connection: SqlConnection.Connection
  readonly state: TransactionState
}

const transactionConnection = (
  tx: postgres.TransactionSql,
  state: TransactionState,
  outcome: () => Promise<unknown>
): SqlConnection.Connection => {
  const base = makeConnection(tx as unknown as postgres.Sql)
  const guard = <A>(operation: string, effect: Effect.Effect<A, SqlError.SqlError>) =>
    Effect.suspend(() => (state.lost === undefined ? effect : Effect.fail(toSqlError(state.lost, operation))))
  // postgres.js rejects a statement cut by the server BEFORE it rejects `begin` (which sets
  // `state.lost`), and a fiber resumed by that rejection runs in the same microtask drain. Without
  // this pause, COMMIT/ROLLBACK would be handed to a connection whose socket is already gone, and
  // postgres.js 3.4.9 then throws an uncaught TypeError from a timer: the process dies. After one
  // macrotask every rejection caused by the close has been delivered, so `state.lost` is set.
  // (Found by the chaos suite: transactionCut.chaos.test.ts, repro in apps/runner/chaos/repro.)
  // setImmediate, not setTimeout(0): Node runs that one a millisecond later, and every commit waited it.
  const afterPendingRejections = Effect.promise(() => new Promise<void>((resolve) => setImmediate(resolve)))
  const settle = (commit: boolean) =>
    Effect.tryPromise({
      try: () => {
        state.settle(commit)
        return outcome()
      },
      catch: (cause) => cause
    }).pipe(
      Effect.catch((cause) =>
        cause instanceof RollbackSignal ? Effect.void : Effect.fail(toSqlError(cause, commit ? "commit" : "rollback"))
      ),
      Effect.as([])
    )
  const finish = (commit: boolean) =>
    Effect.andThen(
      afterPendingRejections,
      Effect.suspend(() =>
        state.lost === undefined
          ? settle(commit)
          : commit
            ? Effect.fail(toSqlError(state.lost, "commit"))
            : // The server discards the open transaction of a session that ended: it IS rolled back.
              // Failing here would make `withTransaction` die (it runs ROLLBACK under `orDie`).
              Effect.succeed([])
      )
    )
  return {
    execute: (sql, params, transformRows) => guard("execute", base.execute(sql, params, transformRows)),
    executeRaw: (sql, params) => guard("executeRaw", base.executeRaw(sql, params)),
    executeStream: base.executeStream,
    executeValues: (sql, params) => guard("executeValues", base.executeValues(sql, params)),
    executeValuesUnprepared: (sql, params) => guard("executeValues", base.executeValuesUnprepared(sql, params)),
    executeUnprepared: (sql, params, transformRows) =>
      sql === "BEGIN"
        ? Effect.succeed([])
        : sql === "COMMIT"
          ? finish(true)
          : sql === "ROLLBACK"
            ? finish(false)
            : guard("executeUnprepared", base.executeUnprepared(sql, params, transformRows))
  }
}

/** A SqlClient and the LISTEN port over an existing postgres.js client (which the caller closes). */
export const fromPool = (pg: postgres.Sql) =>
  Effect.gen(function* () {
    const pooled = makeConnection(pg)
    const scopedPooled = Effect.succeed(pooled)
    const sql = yield* SqlClient.make({
      acquirer: scopedPooled,
      transactionAcquirer: beginTransaction(pg),
      borrower: (f) => f(pooled),
      compiler: makeCompiler(),
      driver: "postgres",
      spanAttributes: [["db.system.name", "postgresql"]]
    })
    DirectStatement.register(sql, (f) => f(pooled))
    const notifications = PgNotifications.of({
      listen: (channel, onNotify) =>
        Effect.acquireRelease(
          run("listen", () => pg.listen(channel, (payload) => onNotify(payload))),
          // Bounded: on a half-open connection UNLISTEN never gets an answer, and closing the store
          // (a SIGTERM) must not wait for it. The pool's end() closes the socket anyway.
          (request) => Effect.tryPromise(() => request.unlisten()).pipe(Effect.timeout("2 seconds"), Effect.ignore)
        ).pipe(Effect.asVoid),
      notify: (channel, payload, onError) => {
        // postgres.js sends a query once it is awaited (`then`).
        pg.unsafe(notifyStatement, [channel, payload], prepared).then(undefined, onError)
      }
    })
    return { sql, notifications }
  }).pipe(Effect.provide(Reactivity.layer))

/** A SqlClient and the LISTEN port on a postgres.js pool of its own, closed with the scope. */
export const make = (options: PostgresJsOptions) => Effect.flatMap(makePool(options), fromPool)

/** SqlClient and PgNotifications on a postgres.js pool that lives as long as the layer. */
export const layer = (
  options: PostgresJsOptions
): Layer.Layer<SqlClient.SqlClient | PgNotifications, SqlError.SqlError> =>
  Layer.effectContext(
    Effect.map(make(options), ({ sql, notifications }) =>
      Context.make(SqlClient.SqlClient, sql).pipe(Context.add(PgNotifications, notifications))
    )
  )

/**
 * `layer` with its options read through Effect's `Config`, e.g.
 * `layerConfig({ url: Config.Redacted("DATABASE_URL") })`.
 */
export const layerConfig = (
  config: Config.Wrap<PostgresJsOptions>
): Layer.Layer<SqlClient.SqlClient | PgNotifications, SqlError.SqlError | Config.ConfigError> =>
  Layer.unwrap(Effect.map(Config.unwrap(config), layer))
