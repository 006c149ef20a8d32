/**
 * Bench plumbing: fresh schemas, the two drivers for the raw reference, medians, and running an
 * Effect against a built store layer with the clock started only after setup.
 */
import type { PGlite } from "@electric-sql/pglite"
import { Effect, Layer } from "effect"
import postgres from "postgres"
import { migrate, Pglite, PostgresJs } from "../src/index.ts"
import type { Query } from "./rawSql.ts"

export const databaseUrl: string = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

let counter = 0
export const schemaName = (name: string): string => `bench_${name}_${process.pid}_${++counter}`

/** Creates and migrates a schema (not timed). */
export const migratePg = (schema: string) =>
  Effect.runPromise(migrate({ schema }).pipe(Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 1 }))))

export const dropPg = async (schema: string) => {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await sql.end()
}

/**
 * Runs `f` with DATABASE_URL naming a database of its own (created, then dropped with its schemas),
 * for rows that VACUUM: in a shared database any other session's open transaction keeps VACUUM from
 * removing what the row deleted. Child processes started inside `f` inherit the URL.
 */
export const withPrivateDatabase = async <A>(name: string, f: () => Promise<A>): Promise<A> => {
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  const database = `${name}_${process.pid}`
  await admin.unsafe(`CREATE DATABASE ${database}`)
  const previous = process.env.DATABASE_URL
  const url = new URL(databaseUrl)
  url.pathname = `/${database}`
  process.env.DATABASE_URL = url.href
  try {
    return await f()
  } finally {
    if (previous === undefined) delete process.env.DATABASE_URL
    else process.env.DATABASE_URL = previous
    await admin.unsafe(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin.end()
  }
}

/** A raw postgres.js pool whose search_path is `schema`. */
export const rawPg = (schema: string, max: number) => {
  const sql = postgres(databaseUrl, { max, onnotice: () => {}, connection: { search_path: schema } })
  const query: Query = (text, params, options) =>
    sql.unsafe(text, params as Array<postgres.ParameterOrJSON<never>>, { prepare: options?.prepare ?? true })
  return { sql, query }
}

let pglite: Promise<PGlite> | undefined
/** One in-memory PGlite for every PGlite row (starting one takes seconds), set up as the store's. */
export const sharedPglite = (): Promise<PGlite> => {
  pglite ??= Pglite.create()
  return pglite
}
export const closePglite = async () => {
  if (pglite !== undefined) await (await pglite).close()
}

export const migratePglite = async (schema: string) => {
  const { layerPgliteInstance } = await import("../src/PgEventStore.ts")
  await Effect.runPromise(Effect.scoped(Layer.build(layerPgliteInstance(await sharedPglite(), { schema }))))
}

export const rawPglite = async (schema: string) => {
  const pg = await sharedPglite()
  await pg.exec(`SET search_path TO ${schema}`)
  const query: Query = async (text, params) => (await pg.query<Record<string, unknown>>(text, [...params])).rows
  return { pg, query }
}

export const median = (xs: ReadonlyArray<number>): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

export const percentile = (xs: ReadonlyArray<number>, p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN
}

/** Runs `n` async jobs with at most `concurrency` at once. */
export const pool = async (n: number, concurrency: number, job: (i: number) => Promise<unknown>) => {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await job(next++)
    })
  )
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Fills `schema` with `n` pending outbox rows and their events in SQL (setup for drains, not timed).
 * 500 streams, each numbered gap-free in position order, as the store would have.
 */
export const PREFILL = `
WITH ev AS (
  INSERT INTO events (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, revision)
  SELECT gen_random_uuid(), 'quote.updated', 'quote', 'SYM' || (g % 500), '4bf92f3577b34da6a3ce929d0e0e4736', 1, now(),
         jsonb_build_object('symbol', 'SYM' || (g % 500), 'price', 100 + (g % 97) / 10.0, 'volume', g), (g - 1) / 500
  FROM generate_series(1, $1::int) g
  ORDER BY g
  RETURNING event_id, entity_type, entity_id, revision
),
st AS (
  INSERT INTO streams (entity_type, entity_id, revision)
  SELECT entity_type, entity_id, max(revision) FROM ev GROUP BY entity_type, entity_id
)
INSERT INTO outbox (event_id, route, topic) SELECT event_id, 'bench', 'quotes' FROM ev`
