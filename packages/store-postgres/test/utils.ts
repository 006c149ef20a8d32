/**
 * Test helpers: every integration test works in its own schema of the database named by
 * DATABASE_URL (default: the local server) and drops it afterwards, so tests never see each
 * other's rows and leave nothing behind.
 */
import type { PGlite } from "@electric-sql/pglite"
import { Effect, Layer } from "effect"
import postgres from "postgres"
import { afterAll, beforeAll } from "vitest"
import { PgEventStore, Pglite } from "../src/index.ts"

export const databaseUrl: string = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

let counter = 0
/** A schema name no other test (or test process) uses. */
export const freshSchemaName = (prefix = "sluice_test"): string =>
  `${prefix}_${process.pid}_${++counter}_${Math.random().toString(36).slice(2, 8)}`

/** Runs one administrative statement on a short-lived connection. */
export const admin = <A>(f: (sql: postgres.Sql) => Promise<A>): Effect.Effect<A> =>
  Effect.promise(async () => {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    try {
      return await f(sql)
    } finally {
      await sql.end({ timeout: 5 })
    }
  })

export const dropSchema = (schema: string): Effect.Effect<void> =>
  admin((sql) => sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`).pipe(Effect.asVoid)

/** The postgres.js store in a fresh schema, dropped when the layer is released. */
export const freshPgLayer = (options: Omit<PgEventStore.PostgresStoreOptions, "url" | "schema"> = {}) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const schema = freshSchemaName()
      yield* Effect.addFinalizer(() => dropSchema(schema))
      return PgEventStore.layer({ ...options, url: databaseUrl, schema, poolSize: options.poolSize ?? 4 })
    })
  )

/** How long starting a shared resource (PGlite, a server) may take on a busy machine. */
export const startupTimeout = 120_000

/**
 * One in-memory PGlite for the calling test file, started as the store starts it (Pglite.create)
 * in `beforeAll` (PGlite takes seconds to start, more on a busy machine, so no test pays that inside
 * its own time limit) and closed in `afterAll`. Call at the top level of a test file; the getter works inside tests only.
 */
export const sharedPglite = (): (() => PGlite) => {
  let pglite: PGlite | undefined
  beforeAll(async () => {
    pglite = await Pglite.create()
  }, startupTimeout)
  afterAll(async () => {
    await pglite?.close()
  })
  return () => {
    if (pglite === undefined) throw new Error("sharedPglite: used outside a test (it starts in beforeAll)")
    return pglite
  }
}

/**
 * A database of its own for the calling test file, created in `beforeAll` and dropped in `afterAll`;
 * the getter gives its URL (inside tests only). For tests that VACUUM and count what it removed:
 * in the shared database, any other process's open transaction (another test run) keeps VACUUM from
 * removing dead rows, while transactions in other databases do not.
 */
export const privateDatabase = (): (() => string) => {
  const name = freshSchemaName("sluice_db")
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  beforeAll(() => Effect.runPromise(admin((sql) => sql.unsafe(`CREATE DATABASE ${name}`))), startupTimeout)
  afterAll(() => Effect.runPromise(admin((sql) => sql.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))))
  return () => url.href
}

/** The postgres.js store in `schema` with its own pool of `poolSize`; the schema is dropped with the layer. */
export const postgresDriver = (poolSize: number) => (schema: string) =>
  Layer.unwrap(
    Effect.gen(function* () {
      yield* Effect.addFinalizer(() => dropSchema(schema))
      return PgEventStore.layer({ url: databaseUrl, schema, poolSize })
    })
  )

/**
 * The store on the file's shared in-memory PGlite (`sharedPglite`), in a fresh schema of it,
 * dropped when the layer is released.
 */
export const freshPgliteLayer = (shared: () => PGlite) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const pg = shared()
      const schema = freshSchemaName("pglite")
      yield* Effect.addFinalizer(() => Effect.promise(() => pg.exec(`DROP SCHEMA ${schema} CASCADE`)))
      return PgEventStore.layerPgliteInstance(pg, { schema })
    })
  )

/**
 * The store in `schema` on each driver: PostgreSQL (`postgresDriver`), and the file's shared
 * in-memory PGlite (`sharedPglite`). Call at the top level of a test file.
 */
export const storeDrivers = (poolSize: number) => {
  const pglite = sharedPglite()
  return {
    postgres: postgresDriver(poolSize),
    pglite: (schema: string) => Layer.suspend(() => PgEventStore.layerPgliteInstance(pglite(), { schema }))
  }
}
