/**
 * The store on PostgreSQL, written once against Effect's SqlClient and run by two drivers:
 * postgres.js for a PostgreSQL server (`layer`) and PGlite in process (`layerPglite`). This file is
 * the EventStore (the log) and the layers; the outbox's ports are PgOutbox.ts, the
 * SubscriptionStore PgSubscriptionStore.ts, all built together by `makeStores` on one SqlClient.
 *
 * Because the store uses the SqlClient of its context, every operation joins the caller's
 * `sql.withTransaction` (or `store.transaction`): a business write, events and outbox rows commit
 * together — the outbox pattern. See the README for the example.
 */

import type { PGlite } from "@electric-sql/pglite"
import {
  type AppendBatch,
  type AppendResult,
  type AppendToStreamOptions,
  EventStore,
  expectedRevisionProblem,
  OutboxAdmin,
  OutboxQueue,
  RawPayloadStore,
  type ReadStreamOptions,
  readStreamProblem,
  type StoredEvent,
  StoreError,
  type StreamName,
  SubscriptionStore,
  settingDuration,
  streamBatchProblem,
  streamOnceProblem,
  WrongExpectedRevisionError
} from "@sluice/core"
import { Config, Context, type Duration, Effect, Layer, Option, type Scope } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import * as Append from "./Append.ts"
import * as AppendAll from "./AppendAll.ts"
import * as AppendOnce from "./AppendOnce.ts"
import * as AppendRaces from "./AppendRaces.ts"
import * as DirectStatement from "./DirectStatement.ts"
import { type MigrationError, migrate, validateSchema } from "./Migrator.ts"
import { toStoreError } from "./PgErrors.ts"
import * as Pglite from "./Pglite.ts"
import { PgNotifications } from "./PgNotifications.ts"
import * as PgOutbox from "./PgOutbox.ts"
import * as PgSubscriptionStore from "./PgSubscriptionStore.ts"
import * as PostgresJs from "./PostgresJs.ts"
import * as RawRead from "./RawRead.ts"
import { type RawRow, type StoredEventRow, toRaw, toStoredEvent } from "./Rows.ts"
import * as StreamAppend from "./StreamAppend.ts"
import * as StreamRead from "./StreamRead.ts"
import { tableNames, tables } from "./Tables.ts"
import * as Wakeup from "./Wakeup.ts"

/** Options shared by every way of building the store. */
export interface StoreOptions {
  /** The schema holding Sluice's tables. @default "sluice" */
  readonly schema?: string
  /** Apply pending migrations when the store starts. @default true */
  readonly migrate?: boolean
  /** Send a (debounced) NOTIFY when work appears, for relays in other processes. @default true */
  readonly notify?: boolean
  /**
   * Average gap between two NOTIFYs when work is dense (a token bucket; a steady rate below
   * one per gap is never delayed). @default "4 millis"
   */
  readonly notifyDebounce?: Duration.Input
}

class Boxed {
  readonly error: unknown
  constructor(error: unknown) {
    this.error = error
  }
}

/** The services of one store, on one SqlClient and one set of wake-ups. */
export interface Stores extends PgOutbox.PgOutbox {
  readonly eventStore: EventStore["Service"]
  readonly subscriptionStore: SubscriptionStore["Service"]
  readonly rawPayloadStore: RawPayloadStore["Service"]
}

/**
 * Builds the store on the SqlClient in context (migrating first unless told not to): its
 * EventStore, OutboxQueue, OutboxAdmin and SubscriptionStore. LISTEN is used when a
 * PgNotifications service is present; without it relays and subscriptions poll.
 */
export const makeStores = (
  options: StoreOptions = {}
): Effect.Effect<Stores, MigrationError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const schema = yield* validateSchema(options.schema ?? "sluice")
    // Checked before migrating: a bad option must not leave a changed schema behind.
    const debounce =
      options.notifyDebounce === undefined
        ? Wakeup.defaultDebounce
        : settingDuration("store", "notifyDebounce", options.notifyDebounce, { least: 0, infinite: false })
    if (options.migrate !== false) yield* migrate({ schema })
    const t = tables(sql, schema)
    const names = tableNames(schema)
    const appendStatements = Append.statements(names)
    const onceStatements = AppendOnce.statements(names)
    const appendAllStatement = AppendAll.statement(names)
    const streamStatements = StreamAppend.statements(names)
    const readStatements = StreamRead.statements(names)
    const execute = DirectStatement.executorFor(sql)
    const notifications = Option.getOrUndefined(yield* Effect.serviceOption(PgNotifications))
    const wakeup = yield* Wakeup.make(sql, notifications, {
      channel: `sluice_${schema}`,
      notify: options.notify ?? true,
      debounce
    })
    // After the outermost transaction commits (at once when there is none); never on rollback.
    const appendedAfterCommit = sql.afterCommit(wakeup.signal(Wakeup.EVENTS))
    const appendedWorkAfterCommit = sql.afterCommit(wakeup.signal(Wakeup.WORK | Wakeup.EVENTS))

    // Outbox rows are work for relays; new events are news for subscriptions.
    const signalAppended = (result: AppendResult) =>
      result.outboxRows > 0
        ? appendedWorkAfterCommit
        : result.appended.length + result.corrected.length > 0
          ? appendedAfterCommit
          : Effect.void

    const append = Effect.fnUntraced(function* (batch: AppendBatch) {
      const prepared = yield* Append.prepare(batch)
      const statement =
        batch.once === true
          ? AppendOnce.run(
              execute,
              onceStatements,
              { raw: batch.raw, unique: prepared.unique, outbox: prepared.outbox },
              prepared
            )
          : Append.run(sql, appendStatements, batch, prepared)
      const result = yield* AppendRaces.retryingRaces(sql, "append", statement)
      yield* signalAppended(result)
      return result
    })

    // One statement for independent batches with raw payloads (AppendAll.ts); otherwise each in
    // turn, in one transaction.
    const appendAll = Effect.fnUntraced(function* (batches: ReadonlyArray<AppendBatch>) {
      if (batches.length === 0) return []
      if (batches.length === 1) return [yield* append(batches[0]!)]
      const prepared = yield* Append.prepareAll(batches)
      // Independent batches appended `once` (a push source's concurrent deliveries): AppendOnce.ts.
      const combined = AppendAll.canCombine(batches, prepared)
        ? AppendAll.run(sql, appendAllStatement, batches, prepared)
        : AppendOnce.canCombine(batches, prepared)
          ? AppendOnce.runAll(execute, onceStatements, batches, prepared)
          : undefined
      if (combined === undefined) return yield* transaction(Effect.forEach(batches, append))
      const results = yield* AppendRaces.retryingRaces(sql, "append", combined)
      yield* signalAppended({
        appended: results.flatMap((r) => r.appended),
        duplicates: [],
        corrected: results.flatMap((r) => r.corrected),
        outdated: [],
        outboxRows: results.reduce((n, r) => n + r.outboxRows, 0)
      })
      return results
    })

    const appendToStream = Effect.fnUntraced(function* (
      stream: StreamName,
      batch: AppendBatch,
      options: AppendToStreamOptions = {}
    ) {
      const expected = options.expectedRevision ?? "any"
      const prepared = yield* Append.prepare(batch, "appendToStream")
      const problem =
        streamOnceProblem(batch) ?? expectedRevisionProblem(expected) ?? streamBatchProblem(stream, batch.events)
      if (problem !== undefined)
        return yield* new StoreError({ operation: "appendToStream", reason: problem, retryable: false })
      const outcome = yield* AppendRaces.retryingRaces(
        sql,
        "appendToStream",
        StreamAppend.run(execute, streamStatements, stream, expected, { ...prepared, raw: batch.raw })
      )
      if (!outcome.ok) {
        const actual = yield* StreamAppend.currentRevision(sql, names, stream).pipe(
          Effect.mapError(toStoreError("appendToStream"))
        )
        return yield* new WrongExpectedRevisionError({ stream, expected, actual })
      }
      const result = Append.toResult(prepared, outcome.row)
      yield* signalAppended(result)
      return { ...result, nextExpectedRevision: outcome.revision }
    })

    const eventColumns = sql.literal(
      `e.event_id::text AS event_id, e.position::text AS position, e.revision::text AS revision, e.raw_id::text AS raw_id, e.recorded_at,
       e.event_type, e.entity_id, e.entity_type, e.trace_id, e.schema_version, e.occurred_at, e.payload,
       e.supersedes::text AS supersedes`
    )

    const getEvent = Effect.fn("PgEventStore.getEvent")(function* (id: string) {
      const rows =
        yield* sql<StoredEventRow>`SELECT ${eventColumns} FROM ${t.events} e WHERE e.event_id = ${id}::uuid`.pipe(
          Effect.mapError(toStoreError("getEvent"))
        )
      return Option.map(Option.fromNullishOr(rows[0]), toStoredEvent)
    })

    const readEvents = Effect.fn("PgEventStore.readEvents")(function* (after: number, limit: number) {
      const rows = yield* sql<StoredEventRow>`
        SELECT ${eventColumns} FROM ${t.events} e WHERE e.position > ${Math.max(0, Math.floor(after))}
        ORDER BY e.position LIMIT ${Math.max(0, Math.floor(limit))}`.pipe(Effect.mapError(toStoreError("readEvents")))
      return rows.map(toStoredEvent)
    })

    // No span of its own (its statement has one): this runs for every command, and Effect.fn's
    // span and stack traces cost more than decoding the rows.
    const readStream = (
      stream: StreamName,
      options: ReadStreamOptions = {}
    ): Effect.Effect<ReadonlyArray<StoredEvent>, StoreError> => {
      const problem = readStreamProblem(options)
      if (problem !== undefined)
        return Effect.fail(new StoreError({ operation: "readStream", reason: problem, retryable: false }))
      return StreamRead.run(execute, readStatements, stream, options).pipe(
        Effect.mapError(toStoreError("readStream")),
        Effect.map((rows) => rows.map(toStoredEvent))
      )
    }

    const getRaw = Effect.fn("PgEventStore.getRaw")(function* (id: string) {
      const rows = yield* sql<RawRow>`
        SELECT raw_id::text AS raw_id, source, content_type, body, request, received_at, trace_id, content_hash, transform_error
        FROM ${t.raw} WHERE raw_id = ${id}::uuid`.pipe(Effect.mapError(toStoreError("getRaw")))
      return Option.map(Option.fromNullishOr(rows[0]), toRaw)
    })

    // The caller's own errors are boxed through withTransaction so that only BEGIN/COMMIT failures
    // become StoreErrors; a SqlError the caller's effect raised comes back to it unchanged.
    const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> =>
      sql
        .withTransaction(Effect.mapError(self, (error) => new Boxed(error)))
        .pipe(
          Effect.mapError((error): E | StoreError =>
            error instanceof Boxed ? (error.error as E) : toStoreError("transaction")(error)
          )
        )

    const eventStore = EventStore.of({
      append,
      appendAll,
      appendToStream: (stream, batch, options) => appendToStream(stream, batch, options),
      readStream,
      transaction,
      getEvent: (id) => getEvent(id),
      readEvents,
      getRaw: (id) => getRaw(id)
    })
    return {
      eventStore,
      ...PgOutbox.make(sql, schema, wakeup),
      subscriptionStore: PgSubscriptionStore.make(sql, schema, wakeup),
      rawPayloadStore: RawRead.make(sql, schema)
    }
  })

/** Builds the EventStore alone (see `makeStores`). */
export const make = (
  options: StoreOptions = {}
): Effect.Effect<EventStore["Service"], MigrationError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.map(makeStores(options), (stores) => stores.eventStore)

/**
 * The store (EventStore, OutboxQueue, OutboxAdmin and SubscriptionStore) on a SqlClient the
 * application already has (e.g. `@effect/sql-pg`); relays and subscriptions poll unless
 * PgNotifications is provided too.
 */
export const layerSql = (
  options: StoreOptions = {}
): Layer.Layer<
  EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore,
  MigrationError,
  SqlClient.SqlClient
> =>
  Layer.effectContext(
    Effect.map(makeStores(options), (stores) =>
      Context.make(EventStore, stores.eventStore).pipe(
        Context.add(OutboxQueue, stores.outboxQueue),
        Context.add(OutboxAdmin, stores.outboxAdmin),
        Context.add(SubscriptionStore, stores.subscriptionStore),
        Context.add(RawPayloadStore, stores.rawPayloadStore)
      )
    )
  )

/** Options of `layer`: where the server is, and how the store behaves. */
export interface PostgresStoreOptions extends StoreOptions, PostgresJs.PostgresJsOptions {}

/**
 * The store on PostgreSQL through postgres.js, with LISTEN/NOTIFY. Also provides the SqlClient it
 * uses, so application code can run its own statements in the same transactions as `append`.
 */
export const layer = (
  options: PostgresStoreOptions
): Layer.Layer<
  EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore | SqlClient.SqlClient | PgNotifications,
  MigrationError | SqlError.SqlError
> => layerSql(options).pipe(Layer.provideMerge(PostgresJs.layer(options)))

/**
 * `layer` with its options read through Effect's `Config`, e.g.
 * `layerConfig({ url: Config.Redacted("DATABASE_URL"), schema: Config.String("SLUICE_SCHEMA") })`.
 */
export const layerConfig = (
  config: Config.Wrap<PostgresStoreOptions>
): Layer.Layer<
  EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore | SqlClient.SqlClient | PgNotifications,
  MigrationError | SqlError.SqlError | Config.ConfigError
> => Layer.unwrap(Effect.map(Config.unwrap(config), layer))

/** Options of `layerPglite`. `notify` defaults to false: PGlite lives in one process, where local wake-ups suffice. */
export interface PgliteStoreOptions extends StoreOptions, Pglite.PgliteOptions {}

/**
 * The store on embedded PGlite: `dataDir` for a durable database, in memory when absent. Also
 * provides its SqlClient (see `layer`).
 */
export const layerPglite = (
  options: PgliteStoreOptions = {}
): Layer.Layer<
  EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore | SqlClient.SqlClient | PgNotifications,
  MigrationError | SqlError.SqlError
> => layerSql({ notify: false, ...options }).pipe(Layer.provideMerge(Pglite.layer(options)))

/**
 * The store on a PGlite instance the caller opened and will close (e.g. one instance shared by
 * tests, each with its own schema).
 */
export const layerPgliteInstance = (
  pg: PGlite,
  options: StoreOptions = {}
): Layer.Layer<
  EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore | SqlClient.SqlClient | PgNotifications,
  MigrationError
> =>
  layerSql({ notify: false, ...options }).pipe(
    Layer.provideMerge(
      Layer.effectContext(
        Effect.map(Pglite.fromInstance(pg), ({ sql, notifications }) =>
          Context.make(SqlClient.SqlClient, sql).pipe(Context.add(PgNotifications, notifications))
        )
      )
    )
  )
