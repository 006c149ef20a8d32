/**
 * The store on PostgreSQL, written once against Effect's SqlClient and run by two drivers:
 * postgres.js for a PostgreSQL server (`layer`) and PGlite in process (`layerPglite`). This file
 * builds the EventStore (its writes are PgAppends.ts, its reads PgEventReads.ts, its transaction
 * here) and the layers; the outbox's ports are PgOutbox.ts, the SubscriptionStore
 * PgSubscriptionStore.ts, all built together by `makeStores` on one SqlClient.
 *
 * Because the store uses the SqlClient of its context, every operation joins the caller's
 * `sql.withTransaction` (or `store.transaction`): a business write, events and outbox rows commit
 * together — the outbox pattern. See the README for the example.
 */

import type { PGlite } from "@electric-sql/pglite"
import {
  EventStore,
  OutboxAdmin,
  OutboxQueue,
  RawPayloadStore,
  type StoreError,
  SubscriptionStore,
  settingDuration
} from "@sluice/core"
import { Config, Context, type Duration, Effect, Layer, Option, type Scope } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { type MigrationError, migrate, validateSchema } from "./Migrator.ts"
import * as PgAppends from "./PgAppends.ts"
import { toStoreError } from "./PgErrors.ts"
import * as PgEventReads from "./PgEventReads.ts"
import * as Pglite from "./Pglite.ts"
import { PgNotifications } from "./PgNotifications.ts"
import * as PgOutbox from "./PgOutbox.ts"
import * as PgSubscriptionStore from "./PgSubscriptionStore.ts"
import * as PostgresJs from "./PostgresJs.ts"
import * as RawRead from "./RawRead.ts"
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
    const notifications = Option.getOrUndefined(yield* Effect.serviceOption(PgNotifications))
    const wakeup = yield* Wakeup.make(sql, notifications, {
      channel: `sluice_${schema}`,
      notify: options.notify ?? true,
      debounce
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
      ...PgAppends.make(sql, names, wakeup, transaction),
      ...PgEventReads.make(sql, t, names),
      transaction
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
