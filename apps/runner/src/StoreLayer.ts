/**
 * The store seam: picks the EventStore adapter from the config and the environment (PostgreSQL
 * when a URL is known, embedded PGlite in a data directory otherwise, or memory), opens it either
 * migrating (`run`, `migrate`) or as it is, with no DDL (`status`, `dlq`: a missing or unmigrated
 * schema is an error naming it), locks an embedded data directory for this process (DataDirLock.ts),
 * and gives `/readyz` a health check (database reachable, every bundled migration applied).
 */
import { existsSync, mkdirSync } from "node:fs"
import { join, resolve } from "node:path"
import { EventStore, layerMemory, OutboxAdmin, OutboxQueue, RawPayloadStore, SubscriptionStore } from "@sluice/core"
import {
  type Health,
  health,
  migrate,
  migrationStatus,
  migrations,
  PgEventStore,
  Pglite,
  PostgresJs,
  type SchemaProblem,
  schemaProblem
} from "@sluice/store-postgres"
import { Context, Data, Effect, Layer, Redacted, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import type { StoreConfig } from "./Config.ts"
import * as DatabaseUrl from "./DatabaseUrl.ts"
import * as DataDirLock from "./DataDirLock.ts"
import { readEnv } from "./Environment.ts"
import { describeError } from "./ErrorText.ts"

/** The store could not be opened (unreachable server, failed migration, unusable data directory). */
export class StoreStartError extends Data.TaggedError("StoreStartError")<{
  readonly store: string
  readonly reason: string
}> {
  override get message() {
    return `cannot open the ${this.store} store: ${this.reason}`
  }
}

/** `store.driver` is `postgres` but no URL is configured (exit code 2: a config problem). */
export class MissingDatabaseUrlError extends Data.TaggedError("MissingDatabaseUrlError")<{}> {
  override get message() {
    return 'store.driver is "postgres" but there is no URL: set store.url or DATABASE_URL'
  }
}

/** `store.url` or `DATABASE_URL` is not a usable PostgreSQL URL (exit code 2); the URL is never quoted. */
export class DatabaseUrlError extends Data.TaggedError("DatabaseUrlError")<{
  readonly source: "store.url" | "DATABASE_URL"
  readonly reason: string
}> {
  override get message() {
    return `${this.source}: ${this.reason}`
  }
}

/** Which adapter to use, resolved from the config and the environment. */
export type StoreChoice =
  | {
      readonly _tag: "postgres"
      readonly url: Redacted.Redacted<string>
      /** Where the URL came from: `DATABASE_URL` overrides `store.url`, and messages say which. */
      readonly urlFrom: "store.url" | "DATABASE_URL"
      readonly schema: string
      readonly poolSize: number
    }
  | { readonly _tag: "embedded"; readonly dataDir: string; readonly schema: string }
  | { readonly _tag: "memory" }

/**
 * `DATABASE_URL` in the environment (Environment.ts) overrides `store.url`; with driver `auto` a URL means
 * PostgreSQL and no URL means PGlite in `dataDir` (a relative one resolved against the working
 * directory: `load` has already made it absolute against the config file's folder). Every URL
 * given is checked (DatabaseUrl.ts) before any driver sees it.
 */
export const chooseStore = (
  config: StoreConfig
): Effect.Effect<StoreChoice, MissingDatabaseUrlError | DatabaseUrlError> =>
  Effect.gen(function* () {
    const embedded = { _tag: "embedded", dataDir: resolve(config.dataDir), schema: config.schema } as const
    if (config.driver === "memory") return { _tag: "memory" } as const
    if (config.driver === "embedded") return embedded
    const fromEnv = (yield* readEnv(["DATABASE_URL"])).DATABASE_URL
    const [source, url] =
      fromEnv !== undefined && fromEnv !== ""
        ? (["DATABASE_URL", Redacted.make(fromEnv)] as const)
        : (["store.url", config.url] as const)
    if (url === undefined) {
      if (config.driver === "postgres") return yield* new MissingDatabaseUrlError()
      return embedded
    }
    const problem = DatabaseUrl.problemOf(Redacted.value(url))
    if (problem !== undefined) return yield* new DatabaseUrlError({ source, reason: problem })
    return { _tag: "postgres", url, urlFrom: source, schema: config.schema, poolSize: config.poolSize } as const
  })

/** Said of a URL the environment gave: an operator reading store.url would look in the wrong place. */
const fromEnvironment = (choice: { readonly urlFrom: "store.url" | "DATABASE_URL" }): string =>
  choice.urlFrom === "DATABASE_URL" ? " (URL from DATABASE_URL)" : ""

/** Where the database is, safe to log (never the URL's credentials). */
export const describeDatabase = (choice: StoreChoice): string => {
  switch (choice._tag) {
    case "memory":
      return "memory"
    case "embedded":
      return `embedded PGlite in ${choice.dataDir}`
    case "postgres":
      return `PostgreSQL at ${DatabaseUrl.describe(Redacted.value(choice.url))}${fromEnvironment(choice)}`
  }
}

/** A description safe to log (never the URL's credentials). */
export const describeStore = (choice: StoreChoice): string =>
  choice._tag === "memory" ? "memory" : `${describeDatabase(choice)} (schema ${choice.schema})`

/** Checks the store's database: reachable, and every migration this version knows applied. */
export class StoreHealth extends Context.Service<StoreHealth, { readonly check: Effect.Effect<Health> }>()(
  "@sluice/runner/StoreHealth"
) {}

/**
 * The store's SqlClient (none on the memory store): projections whose read model lives in the
 * store's database run their SQL on it, inside the transactions of the store.
 */
export class StoreSql extends Context.Service<
  StoreSql,
  {
    readonly client: SqlClient.SqlClient | undefined
    /** The store's SQL schema (`store.schema`); undefined for the memory store. */
    readonly schema?: string | undefined
  }
>()("@sluice/runner/StoreSql") {}

/**
 * Every service a command gets from the store it opened: its event log, its outbox for relays and
 * for operators, its subscriptions' checkpoints, and the runner's views of it.
 */
export type StoreServices =
  | EventStore
  | OutboxQueue
  | OutboxAdmin
  | SubscriptionStore
  | RawPayloadStore
  | StoreHealth
  | MigrationState
  | StoreSql

/** The bundled migrations the schema had applied when the store was opened (`status` reports it). */
export class MigrationState extends Context.Service<
  MigrationState,
  { readonly applied: ReadonlyArray<string>; readonly pending: ReadonlyArray<string> }
>()("@sluice/runner/MigrationState") {}

const sqlHealth = (sql: SqlClient.SqlClient, schema: string) =>
  StoreHealth.of({ check: health({ schema }).pipe(Effect.provideService(SqlClient.SqlClient, sql)) })

/** A read-only command found no usable schema (it creates none: `migrate` or `run` does). */
export class SchemaNotReadyError extends Data.TaggedError("SchemaNotReadyError")<{
  readonly schema: string
  readonly database: string
  readonly reason: SchemaProblem["reason"]
  readonly detail?: string
}> {
  override get message() {
    const where = `in ${this.database}`
    switch (this.reason) {
      case "missing":
        return `schema "${this.schema}" does not exist ${where}; run sluice migrate to create it, or check store.schema`
      case "unmigrated":
        return `schema "${this.schema}" ${where} has no Sluice tables (it was never migrated); run sluice migrate, or check store.schema`
      case "newer":
        return `schema "${this.schema}" ${where} was migrated by a newer Sluice (${this.detail}); upgrade sluice`
      default:
        return `schema "${this.schema}" ${where} has migrations that changed after they were applied (${this.detail}); add new migrations instead of editing applied ones`
    }
  }
}

/** A read-only command found no embedded database (it creates none: `migrate` or `run` does). */
export class NoEmbeddedStoreError extends Data.TaggedError("NoEmbeddedStoreError")<{ readonly dataDir: string }> {
  override get message() {
    return `${this.dataDir} holds no database; run sluice migrate to create it, or check store.dataDir`
  }
}

/** How a command opens the store. */
export interface OpenOptions {
  /** The command, as typed (`sluice run`): recorded in an embedded data directory's lock. */
  readonly command: string
  /** Apply pending migrations (`run`, `migrate`); false opens the schema as it is, with no DDL. */
  readonly migrate: boolean
  /** Suggested when the embedded store is held by a running `run` (`sluice status --admin URL`). */
  readonly viaAdmin?: string
}

const defaultOpen: OpenOptions = { command: "sluice", migrate: true }

/** Without migrating: the schema must exist and be migrated by this version (it may be behind). */
const checkSchema = (schema: string, database: string) =>
  Effect.gen(function* () {
    const status = yield* migrationStatus({ schema })
    const problem = schemaProblem(status)
    if (problem !== undefined) return yield* new SchemaNotReadyError({ schema, database, ...problem })
    return status
  })

/**
 * Builds `layer` (a store that migrates only when `options.migrate`), then checks the schema when it
 * did not migrate (opening with `migrate: false` runs no statement, so nothing happens before the
 * check); returns the store, its health check and its migration state.
 */
const sqlStore = <E>(
  choice: Extract<StoreChoice, { readonly schema: string }>,
  options: OpenOptions,
  layer: Layer.Layer<
    EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore | SqlClient.SqlClient,
    E
  >
): Effect.Effect<Context.Context<StoreServices>, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const built = yield* Layer.build(layer)
    const sql = Context.get(built, SqlClient.SqlClient)
    const status = yield* (
      options.migrate
        ? migrationStatus({ schema: choice.schema })
        : checkSchema(choice.schema, describeDatabase(choice))
    ).pipe(Effect.provideService(SqlClient.SqlClient, sql))
    return Context.make(EventStore, Context.get(built, EventStore)).pipe(
      Context.add(OutboxQueue, Context.get(built, OutboxQueue)),
      Context.add(OutboxAdmin, Context.get(built, OutboxAdmin)),
      Context.add(SubscriptionStore, Context.get(built, SubscriptionStore)),
      Context.add(StoreSql, StoreSql.of({ client: sql, schema: choice.schema })),
      Context.add(RawPayloadStore, Context.get(built, RawPayloadStore)),
      Context.add(StoreHealth, sqlHealth(sql, choice.schema)),
      Context.add(
        MigrationState,
        MigrationState.of({ applied: status.applied.map((m) => m.file), pending: status.pending.map((m) => m.file) })
      )
    )
  })

/**
 * Prepares and locks an embedded data directory for `use`: created when migrating, else it must
 * hold a database; the lock is taken before PGlite opens and released after it closes.
 */
const embedded = <A, E, R>(
  choice: Extract<StoreChoice, { readonly _tag: "embedded" }>,
  options: OpenOptions,
  use: (lock: DataDirLock.DataDirLock["Service"]) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    if (options.migrate) {
      yield* Effect.try({
        try: () => mkdirSync(choice.dataDir, { recursive: true }),
        catch: (cause) => new StoreStartError({ store: "embedded", reason: String(cause) })
      })
    } else if (!existsSync(join(choice.dataDir, "PG_VERSION"))) {
      return yield* new NoEmbeddedStoreError({ dataDir: choice.dataDir })
    }
    const lock = yield* DataDirLock.acquire(choice.dataDir, {
      command: options.command,
      ...(options.viaAdmin === undefined ? {} : { viaAdmin: options.viaAdmin })
    })
    return yield* use(lock)
  })

const messageOf = (error: unknown): string => (error instanceof StoreStartError ? error.reason : describeError(error))

/** `where` (see fromEnvironment) is added unless the error's own text already says it. */
const toStart =
  (store: string, where = "") =>
  (error: unknown) => {
    const reason = messageOf(error)
    return new StoreStartError({ store, reason: where === "" || reason.includes(where) ? reason : `${reason}${where}` })
  }

/**
 * The store's services and its health check, for a choice: migrated on start by default, or opened as it
 * is (`migrate: false`). An embedded store also provides its DataDirLock.
 */
export const storeLayer = (
  choice: StoreChoice,
  options: OpenOptions = defaultOpen
): Layer.Layer<StoreServices, StoreStartError> => {
  switch (choice._tag) {
    case "memory":
      return Layer.mergeAll(
        layerMemory,
        Layer.succeed(StoreSql, StoreSql.of({ client: undefined })),
        Layer.succeed(StoreHealth, StoreHealth.of({ check: Effect.succeed({ database: true, migrations: true }) })),
        Layer.succeed(MigrationState, MigrationState.of({ applied: migrations.map((m) => m.file), pending: [] }))
      )
    case "embedded":
      return Layer.effectContext(
        embedded(choice, options, (lock) =>
          sqlStore(
            choice,
            options,
            PgEventStore.layerPglite({ dataDir: choice.dataDir, schema: choice.schema, migrate: options.migrate })
          ).pipe(Effect.map(Context.add(DataDirLock.DataDirLock, lock)))
        ).pipe(Effect.mapError(toStart("embedded")))
      )
    // A driver's own error (ECONNREFUSED host:port) does not say where its URL came from.
    case "postgres":
      return Layer.effectContext(
        sqlStore(
          choice,
          options,
          PgEventStore.layer({
            url: choice.url,
            schema: choice.schema,
            poolSize: choice.poolSize,
            migrate: options.migrate
          })
        ).pipe(Effect.mapError(toStart("postgres", fromEnvironment(choice))))
      )
  }
}

/** Applies pending migrations without starting anything else; returns the files applied. */
export const migrateOnly = (
  choice: StoreChoice,
  command = "sluice migrate"
): Effect.Effect<ReadonlyArray<string>, StoreStartError> => {
  if (choice._tag === "memory") return Effect.succeed([])
  const run = (client: Layer.Layer<SqlClient.SqlClient, unknown>) =>
    migrate({ schema: choice.schema }).pipe(
      Effect.map((report) => report.applied.map((m) => m.file)),
      Effect.provide(client)
    )
  const applied =
    choice._tag === "postgres"
      ? run(PostgresJs.layer({ url: choice.url, poolSize: 1 }))
      : embedded(choice, { command, migrate: true }, () => run(Pglite.layer({ dataDir: choice.dataDir })))
  return Effect.scoped(applied).pipe(Effect.mapError(toStart(choice._tag)))
}
