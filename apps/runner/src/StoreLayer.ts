/**
 * The store seam: picks the EventStore adapter from the config and the environment (PostgreSQL
 * when a URL is known, embedded PGlite in a data directory otherwise, or memory), and gives
 * `/readyz` a health check (database reachable, every bundled migration applied).
 */
import { mkdirSync } from "node:fs"
import { resolve } from "node:path"
import type { EventStore } from "@sluice/core"
import { layerMemory } from "@sluice/core/testing"
import { migrate, migrations, PgEventStore, Pglite, PostgresJs } from "@sluice/store-postgres"
import { Context, Data, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import type { StoreConfig } from "./Config.ts"

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

/** Which adapter to use, resolved from the config and the environment. */
export type StoreChoice =
  | {
      readonly _tag: "postgres"
      readonly url: Redacted.Redacted<string>
      readonly schema: string
      readonly poolSize: number
    }
  | { readonly _tag: "embedded"; readonly dataDir: string; readonly schema: string }
  | { readonly _tag: "memory" }

/**
 * `DATABASE_URL` in the environment overrides `store.url`; with driver `auto` a URL means
 * PostgreSQL and no URL means PGlite in `dataDir` (resolved against the working directory).
 */
export const chooseStore = (
  config: StoreConfig,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<StoreChoice, MissingDatabaseUrlError> => {
  const fromEnv = env.DATABASE_URL
  const url = fromEnv !== undefined && fromEnv !== "" ? Redacted.make(fromEnv) : config.url
  switch (config.driver) {
    case "memory":
      return Effect.succeed({ _tag: "memory" })
    case "embedded":
      return Effect.succeed({ _tag: "embedded", dataDir: resolve(config.dataDir), schema: config.schema })
    case "postgres":
      return url === undefined
        ? Effect.fail(new MissingDatabaseUrlError())
        : Effect.succeed({ _tag: "postgres", url, schema: config.schema, poolSize: config.poolSize })
    case "auto":
      return Effect.succeed(
        url === undefined
          ? { _tag: "embedded", dataDir: resolve(config.dataDir), schema: config.schema }
          : { _tag: "postgres", url, schema: config.schema, poolSize: config.poolSize }
      )
  }
}

/** A description safe to log (never the URL's credentials). */
export const describeStore = (choice: StoreChoice): string => {
  switch (choice._tag) {
    case "memory":
      return "memory"
    case "embedded":
      return `embedded PGlite in ${choice.dataDir} (schema ${choice.schema})`
    case "postgres": {
      const url = URL.canParse(Redacted.value(choice.url)) ? new URL(Redacted.value(choice.url)) : undefined
      const where = url === undefined ? "(unparseable URL)" : `${url.hostname}:${url.port || 5432}${url.pathname}`
      return `PostgreSQL at ${where} (schema ${choice.schema})`
    }
  }
}

/** What `/readyz` reports. */
export interface Readiness {
  readonly database: boolean
  readonly migrations: boolean
  readonly detail?: string
}

/** Checks the store's database: reachable, and every migration this version knows applied. */
export class StoreHealth extends Context.Service<StoreHealth, { readonly check: Effect.Effect<Readiness> }>()(
  "@sluice/runner/StoreHealth"
) {}

const sqlHealth = (schema: string) =>
  Layer.effect(
    StoreHealth,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const table = sql(`${schema}.sluice_migrations`)
      return StoreHealth.of({
        check: Effect.gen(function* () {
          const ping = yield* Effect.result(sql`SELECT 1 AS ok`)
          if (ping._tag === "Failure") return { database: false, migrations: false, detail: ping.failure.message }
          const rows = yield* Effect.result(sql<{ id: number }>`SELECT id FROM ${table}`)
          if (rows._tag === "Failure") return { database: true, migrations: false, detail: rows.failure.message }
          const applied = new Set(rows.success.map((r) => Number(r.id)))
          const missing = migrations.filter((m) => !applied.has(m.id)).map((m) => m.file)
          return missing.length === 0
            ? { database: true, migrations: true }
            : { database: true, migrations: false, detail: `not applied: ${missing.join(", ")}` }
        }).pipe(
          Effect.timeoutOrElse({
            duration: "5 seconds",
            orElse: () => Effect.succeed({ database: false, migrations: false, detail: "timed out" })
          })
        )
      })
    })
  )

const toStart = (store: string) => (error: { readonly message: string }) =>
  new StoreStartError({ store, reason: error.message })

/** Turns a layer's failure into a StoreStartError. */
const startFailure =
  (store: string) =>
  <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, StoreStartError, R> =>
    Layer.effectContext(
      Layer.build(layer).pipe(Effect.mapError((error) => new StoreStartError({ store, reason: messageOf(error) })))
    )

const messageOf = (error: unknown): string =>
  error instanceof StoreStartError
    ? error.reason
    : typeof error === "object" && error !== null && "message" in error
      ? String(error.message)
      : String(error)

/** The EventStore (migrated on start) and its health check, for a choice. */
export const storeLayer = (choice: StoreChoice): Layer.Layer<EventStore | StoreHealth, StoreStartError> => {
  switch (choice._tag) {
    case "memory":
      return Layer.mergeAll(
        layerMemory,
        Layer.succeed(StoreHealth, StoreHealth.of({ check: Effect.succeed({ database: true, migrations: true }) }))
      )
    case "embedded": {
      const open = Layer.unwrap(
        Effect.try({
          try: () => {
            mkdirSync(choice.dataDir, { recursive: true })
            return PgEventStore.layerPglite({ dataDir: choice.dataDir, schema: choice.schema })
          },
          catch: (cause) => new StoreStartError({ store: "embedded", reason: String(cause) })
        })
      )
      return sqlHealth(choice.schema).pipe(Layer.provideMerge(open), startFailure("embedded"))
    }
    case "postgres":
      return sqlHealth(choice.schema).pipe(
        Layer.provideMerge(PgEventStore.layer({ url: choice.url, schema: choice.schema, poolSize: choice.poolSize })),
        startFailure("postgres")
      )
  }
}

/** Applies pending migrations without starting anything else; returns the files applied. */
export const migrateOnly = (choice: StoreChoice): Effect.Effect<ReadonlyArray<string>, StoreStartError> => {
  if (choice._tag === "memory") return Effect.succeed([])
  const schema = choice.schema
  const client =
    choice._tag === "postgres"
      ? PostgresJs.layer({ url: choice.url, poolSize: 1 })
      : Layer.unwrap(
          Effect.sync(() => {
            mkdirSync(choice.dataDir, { recursive: true })
            return Pglite.layer({ dataDir: choice.dataDir })
          })
        )
  return migrate({ schema }).pipe(
    Effect.map((report) => report.applied.map((m) => m.file)),
    Effect.provide(client),
    Effect.mapError(toStart(choice._tag))
  )
}
