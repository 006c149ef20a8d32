/**
 * The migrator on PostgreSQL: an empty schema migrates, a second run is harmless, an edited or
 * unknown migration stops the start, migrators racing on one database take turns, and the
 * immutability triggers hold.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import { SqlClient } from "effect/sql"
import { type Migration, MigrationError, migrate, migrations, PostgresJs } from "../src/index.ts"
import { admin, databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

const withSchema = <A, E>(f: (schema: string) => Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.gen(function* () {
    const schema = freshSchemaName("migrator")
    yield* Effect.addFinalizer(() => dropSchema(schema))
    return yield* f(schema).pipe(Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 2 })))
  }).pipe(Effect.scoped)

const tablesOf = (schema: string) =>
  admin(
    (sql) => sql<Array<{ table_name: string }>>`
      SELECT table_name FROM information_schema.tables WHERE table_schema = ${schema} ORDER BY table_name`
  ).pipe(Effect.map((rows) => rows.map((r) => r.table_name)))

describe("migrator", () => {
  it.live("migrates an empty schema, records checksums, and a second run does nothing", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        const first = yield* migrate({ schema })
        assert.deepStrictEqual(
          first.applied.map((m) => m.id),
          migrations.map((m) => m.id)
        )
        assert.deepStrictEqual(yield* tablesOf(schema), [
          "events",
          "outbox",
          "raw_payloads",
          "route_pauses",
          "sluice_migrations",
          "streams",
          "subscription_checkpoints",
          "transform_resolutions"
        ])
        const second = yield* migrate({ schema })
        assert.deepStrictEqual(second.applied, [])
        const sql = yield* SqlClient.SqlClient
        const recorded = yield* sql<{ id: number; checksum: string }>`
          SELECT id, checksum FROM ${sql(`${schema}.sluice_migrations`)} ORDER BY id`
        assert.deepStrictEqual(
          recorded.map((r) => [r.id, r.checksum]),
          migrations.map((m) => [m.id, m.checksum])
        )
      })
    )
  )

  it.live("applies only the new migrations to a schema of the previous version", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        const previous = migrations.slice(0, -1)
        yield* migrate({ schema, migrations: previous })
        const report = yield* migrate({ schema })
        assert.deepStrictEqual(
          report.applied.map((m) => m.id),
          [migrations.at(-1)!.id]
        )
      })
    )
  )

  it.live("refuses to start when an applied migration was edited, and changes nothing", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        yield* migrate({ schema, migrations: migrations.slice(0, 1) })
        const edited: Array<Migration> = migrations.map((m, i) =>
          i === 0 ? { ...m, sql: `${m.sql}\n-- edited`, checksum: "0".repeat(64) } : m
        )
        const error = yield* Effect.flip(migrate({ schema, migrations: edited }))
        assert.instanceOf(error, MigrationError)
        assert.match(error.reason, /0001_tables\.sql changed after it was applied/)
        const sql = yield* SqlClient.SqlClient
        const count = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(`${schema}.sluice_migrations`)}`
        assert.strictEqual(count[0]!.n, 1, "the second migration was not applied either")
      })
    )
  )

  it.live("refuses a database that has a migration this version does not know", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        yield* migrate({ schema })
        const error = yield* Effect.flip(migrate({ schema, migrations: migrations.slice(0, 1) }))
        assert.match(error.reason, /does not know/)
      })
    )
  )

  it.live("a failing migration leaves the schema as it was", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        const broken: Migration = { id: 99, name: "broken", file: "0099_broken.sql", checksum: "x", sql: "SELEC 1" }
        const exit = yield* Effect.exit(migrate({ schema, migrations: [...migrations, broken] }))
        assert.isTrue(Exit.isFailure(exit))
        assert.deepStrictEqual(yield* tablesOf(schema), [])
      })
    )
  )

  it.live("four migrators racing on one schema take turns: one applies, the others find nothing to do", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("race")
      yield* Effect.addFinalizer(() => dropSchema(schema))
      // Separate pools, as separate processes would have.
      const reports = yield* Effect.forEach(
        [1, 2, 3, 4],
        () => migrate({ schema }).pipe(Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 1 }))),
        { concurrency: "unbounded" }
      )
      const counts = reports.map((r) => r.applied.length).sort()
      assert.deepStrictEqual(counts, [0, 0, 0, migrations.length])
    }).pipe(Effect.scoped)
  )

  it.live("events and raw payloads are immutable: UPDATE, DELETE and TRUNCATE are rejected", () =>
    withSchema((schema) =>
      Effect.gen(function* () {
        yield* migrate({ schema })
        const sql = yield* SqlClient.SqlClient
        const events = sql(`${schema}.events`)
        const raw = sql(`${schema}.raw_payloads`)
        yield* sql`INSERT INTO ${raw} (raw_id, source, content_type, body, request, received_at, trace_id, content_hash)
          VALUES (gen_random_uuid(), 's', 'text/plain', 'b', '{}', now(), 't', 'h')`
        yield* sql`INSERT INTO ${events} (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, revision)
          VALUES (gen_random_uuid(), 'a.b', 'e', '1', 't', 1, now(), '{}', 0)`
        for (const statement of [
          sql`UPDATE ${events} SET event_type = 'changed'`,
          sql`UPDATE ${events} SET revision = 1`,
          sql`DELETE FROM ${events}`,
          sql`TRUNCATE ${events}`,
          sql`UPDATE ${raw} SET body = 'changed'`,
          sql`DELETE FROM ${raw}`,
          sql`TRUNCATE ${raw}`
        ]) {
          const error = yield* Effect.flip(statement)
          assert.match(error.message, /immutable/)
        }
        const left = yield* sql<{
          n: number
        }>`SELECT (SELECT count(*) FROM ${events})::int + (SELECT count(*) FROM ${raw})::int AS n`
        assert.strictEqual(left[0]!.n, 2)
      })
    )
  )
})
