/**
 * Test support: PostgreSQL at DATABASE_URL (default: the local server). Each test uses its own
 * schema and drops it afterwards.
 */
import { PostgresJs } from "@sluice/store-postgres"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

export const databaseUrl: string = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

/** A schema name no other test process uses. */
export const freshSchema = (): string => `runner_e2e_${process.pid}_${Math.random().toString(36).slice(2, 8)}`

/** Runs one statement on a short-lived connection. */
export const query = <A extends object = Record<string, unknown>>(text: string): Promise<ReadonlyArray<A>> =>
  Effect.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      return (yield* sql.unsafe(text)) as unknown as ReadonlyArray<A>
    }).pipe(Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 1 })))
  )

export const dropSchema = (schema: string) => query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
