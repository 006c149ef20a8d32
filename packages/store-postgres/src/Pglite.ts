/**
 * Effect's SqlClient on PGlite (PostgreSQL compiled to WASM, in process). PGlite has one
 * connection, so a semaphore gives it to one statement, or to one whole transaction, at a time:
 * without it another fiber's statement could land inside someone else's transaction. This is the
 * only file that knows PGlite.
 */
import { PGlite } from "@electric-sql/pglite"
import { Context, Effect, Layer, Semaphore, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection, type SqlError } from "effect/sql"
import { makeCompiler } from "./PgCompiler.ts"
import { toSqlError } from "./PgErrors.ts"
import { PgNotifications } from "./PgNotifications.ts"

/** Where PGlite keeps its data. */
export interface PgliteOptions {
  /** A directory for the database files; in memory (gone with the process) when absent. @default undefined */
  readonly dataDir?: string
}

const run = <A>(operation: string, query: () => Promise<A>): Effect.Effect<A, SqlError.SqlError> =>
  Effect.tryPromise({ try: query, catch: (cause) => toSqlError(cause, operation) })

const makeConnection = (pg: PGlite): SqlConnection.Connection => {
  const rows = (sql: string, params: ReadonlyArray<unknown>) =>
    run("execute", () => pg.query<Record<string, unknown>>(sql, [...params])).pipe(Effect.map((r) => r.rows))
  const values = (sql: string, params: ReadonlyArray<unknown>) =>
    run("executeValues", () => pg.query<Array<unknown>>(sql, [...params], { rowMode: "array" })).pipe(
      Effect.map((r) => r.rows)
    )
  return {
    execute: (sql, params, transformRows) =>
      Effect.map(rows(sql, params), (r) => (transformRows ? transformRows(r) : r)),
    executeRaw: (sql, params) => run("executeRaw", () => pg.query(sql, [...params])),
    // PGlite returns whole results; the stream replays them.
    executeStream: (sql, params, transformRows) =>
      Stream.fromIterableEffect(Effect.map(rows(sql, params), (r) => (transformRows ? transformRows(r) : r))),
    executeValues: values,
    executeValuesUnprepared: values,
    // Without parameters, `exec` runs a script of several statements (migrations need that).
    executeUnprepared: (sql, params, transformRows) =>
      params.length > 0
        ? Effect.map(rows(sql, params), (r) => (transformRows ? transformRows(r) : r))
        : run("executeUnprepared", () => pg.exec(sql)).pipe(
            Effect.map((results) => {
              const last = (results.at(-1)?.rows ?? []) as ReadonlyArray<Record<string, unknown>>
              return transformRows ? transformRows(last) : last
            })
          )
  }
}

/** Opens PGlite, closed with the scope. */
export const open = (options: PgliteOptions = {}) =>
  Effect.acquireRelease(
    run("open", () => PGlite.create(options.dataDir === undefined ? {} : { dataDir: options.dataDir })),
    (pg) => Effect.promise(() => pg.close())
  )

/** A SqlClient and the LISTEN port over an open PGlite (which the caller closes). */
export const fromInstance = (pg: PGlite) =>
  Effect.gen(function* () {
    const connection = makeConnection(pg)
    const semaphore = Semaphore.makeUnsafe(1)
    const lease = Effect.uninterruptibleMask((restore) => Effect.as(restore(semaphore.takeScoped(1)), connection))
    const sql = yield* SqlClient.make({
      acquirer: lease,
      transactionAcquirer: lease,
      borrower: (f) => semaphore.withPermit(f(connection)),
      compiler: makeCompiler(),
      driver: "pglite",
      spanAttributes: [["db.system.name", "postgresql"]]
    })
    const notifications = PgNotifications.of({
      listen: (channel, onNotify) =>
        Effect.acquireRelease(
          run("listen", () => pg.listen(channel, (payload) => onNotify(payload))),
          (unlisten) => Effect.promise(() => unlisten())
        ).pipe(Effect.asVoid)
    })
    return { sql, notifications }
  }).pipe(Effect.provide(Reactivity.layer))

/** SqlClient and PgNotifications on a PGlite that lives as long as the layer. */
export const layer = (
  options: PgliteOptions = {}
): Layer.Layer<SqlClient.SqlClient | PgNotifications, SqlError.SqlError> =>
  Layer.effectContext(
    Effect.gen(function* () {
      const { sql, notifications } = yield* fromInstance(yield* open(options))
      return Context.make(SqlClient.SqlClient, sql).pipe(Context.add(PgNotifications, notifications))
    })
  )
