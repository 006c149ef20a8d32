/**
 * migrationStatus on PostgreSQL: how far a schema is migrated, read without creating or changing
 * anything (a missing schema stays missing).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { health, isCurrent, type Migration, migrate, migrationStatus, migrations, PostgresJs } from "../src/index.ts"
import { admin, databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

const withSchema = <A, E>(f: (schema: string) => Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.gen(function* () {
    const schema = freshSchemaName("status")
    yield* Effect.addFinalizer(() => dropSchema(schema))
    return yield* f(schema).pipe(Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 1 })))
  }).pipe(Effect.scoped)

const schemaExists = (schema: string) =>
  admin((sql) => sql`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`).pipe(Effect.map((rows) => rows.length > 0))

const files = (ms: ReadonlyArray<Migration>) => ms.map((m) => m.file)

describe("migrationStatus", () => {
  it.live("a missing schema: nothing applied, everything pending, and it is not created", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        const status = yield* migrationStatus({ schema })
        assert.deepStrictEqual(
          { exists: status.exists, migrated: status.migrated, applied: status.applied, pending: files(status.pending) },
          { exists: false, migrated: false, applied: [], pending: files(migrations) }
        )
        assert.isFalse(isCurrent(status))
        assert.isFalse(yield* schemaExists(schema))
      })
    )
  )

  it.live("an empty schema exists but is not migrated; no table is created", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`CREATE SCHEMA ${sql(schema)}`
        const status = yield* migrationStatus({ schema })
        assert.deepStrictEqual([status.exists, status.migrated], [true, false])
        const tables = yield* sql`SELECT 1 FROM information_schema.tables WHERE table_schema = ${schema}`
        assert.strictEqual(tables.length, 0)
      })
    )
  )

  it.live("behind, current, and migrated by a newer or edited version", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        yield* migrate({ schema, migrations: migrations.slice(0, 1) })
        const behind = yield* migrationStatus({ schema })
        assert.deepStrictEqual(
          [files(behind.applied), files(behind.pending)],
          [["0001_tables.sql"], files(migrations.slice(1))]
        )
        yield* migrate({ schema })
        assert.isTrue(isCurrent(yield* migrationStatus({ schema })))
        const older = yield* migrationStatus({ schema, migrations: migrations.slice(0, 1) })
        assert.deepStrictEqual(
          older.unknown,
          migrations.slice(1).map((m) => ({ id: m.id, name: m.name }))
        )
        const edited = migrations.map((m, i) => (i === 0 ? { ...m, checksum: "0".repeat(64) } : m))
        assert.deepStrictEqual(files((yield* migrationStatus({ schema, migrations: edited })).changed), [
          "0001_tables.sql"
        ])
      })
    )
  )

  it.live("health: the database answers, and the schema is current or what differs is named", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        assert.deepStrictEqual(yield* health({ schema }), {
          database: true,
          migrations: false,
          detail: `schema ${schema} is not migrated`
        })
        yield* migrate({ schema, migrations: migrations.slice(0, migrations.length - 1) })
        assert.deepStrictEqual(yield* health({ schema }), {
          database: true,
          migrations: false,
          detail: `not applied: ${migrations.at(-1)!.file}`
        })
        yield* migrate({ schema })
        assert.deepStrictEqual(yield* health({ schema }), { database: true, migrations: true })
      })
    )
  )
})
