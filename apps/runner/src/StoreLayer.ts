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
import * as DatabaseUrl from "./DatabaseUrl.ts"
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
      readonly schema: string
      readonly poolSize: number
    }
  | { readonly _tag: "embedded"; readonly dataDir: string; readonly schema: string }
  | { readonly _tag: "memory" }

/**
 * `DATABASE_URL` in the environment overrides `store.url`; with driver `auto` a URL means
 * PostgreSQL and no URL means PGlite in `dataDir` (a relative one resolved against the working
 * directory: `load` has already made it absolute against the config file's folder). Every URL
 * given is checked (DatabaseUrl.ts) before any driver sees it.
 */
export const chooseStore = (
  config: StoreConfig,
  env: Readonly<Record<string, string | undefined>> = process.env
): Effect.Effect<StoreChoice, MissingDatabaseUrlError | DatabaseUrlError> =>
  Effect.gen(function* () {
    const embedded = { _tag: "embedded", dataDir: resolve(config.dataDir), schema: config.schema } as const
    if (config.driver === "memory") return { _tag: "memory" } as const
    if (config.driver === "embedded") return embedded
    const fromEnv = env.DATABASE_URL
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
    return { _tag: "postgres", url, schema: config.schema, poolSize: config.poolSize } as const
  })

/** A description safe to log (never the URL's credentials). */
export const describeStore = (choice: StoreChoice): string => {
  switch (choice._tag) {
    case "memory":
      return "memory"
    case "embedded":
      return `embedded PGlite in ${choice.dataDir} (schema ${choice.schema})`
    case "postgres":
      return `PostgreSQL at ${DatabaseUrl.describe(Redacted.value(choice.url))} (schema ${choice.schema})`
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

const toStart = (store: string) => (error: unknown) => new StoreStartError({ store, reason: describeError(error) })

/** Turns a layer's failure into a StoreStartError. */
const startFailure =
  (store: string) =>
  <A, E, R>(layer: Layer.Layer<A, E, R>): Layer.Layer<A, StoreStartError, R> =>
    Layer.effectContext(
      Layer.build(layer).pipe(Effect.mapError((error) => new StoreStartError({ store, reason: messageOf(error) })))
    )

const messageOf = (error: unknown): string => (error instanceof StoreStartError ? error.reason : describeError(error))

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
