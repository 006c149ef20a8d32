/**
 * Applies the numbered migrations (`migrations/*.sql`, carried by `migrations.generated.ts`) to one
 * schema, in order, in ONE transaction: a failure leaves the schema as it was.
 *
 * - Every applied file is recorded with its SHA-256; a start whose files differ from what was applied
 *   (edited, or unknown to this version) fails with MigrationError instead of running on a schema it
 *   does not understand.
 * - Safe when several processes migrate at once: a transaction-scoped advisory lock per schema makes
 *   them take turns, and the later ones find nothing left to do.
 */
import { Data, Effect } from "effect"
import { SqlClient } from "effect/sql"
import type { Migration } from "./Migration.ts"
import { migrations as bundled } from "./migrations.generated.ts"

/** Migrating failed, or the database's migrations do not match this version's. */
export class MigrationError extends Data.TaggedError("MigrationError")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return this.reason
  }
}

export interface MigrateOptions {
  /** The schema to migrate (created when missing). @default "sluice" */
  readonly schema?: string
  /** The migrations to apply. @default every file of `migrations/` */
  readonly migrations?: ReadonlyArray<Migration>
}

/** What a run did. */
export interface MigrateReport {
  readonly schema: string
  /** Migrations applied by this run, in order (empty when the schema was current). */
  readonly applied: ReadonlyArray<Migration>
}

const SCHEMA = /^[a-z_][a-z0-9_]{0,62}$/

/** Checks a schema name: lower-case letters, digits and `_`, so it never needs quoting tricks. */
export const validateSchema = (schema: string): Effect.Effect<string, MigrationError> =>
  SCHEMA.test(schema)
    ? Effect.succeed(schema)
    : Effect.fail(new MigrationError({ reason: `schema name ${JSON.stringify(schema)} must match ${SCHEMA}` }))

// Arbitrary first key of the two-key advisory lock, so Sluice's lock cannot collide with an app's
// single-key locks; the second key is the schema's hash.
const LOCK_CLASS = 0x51c3

/**
 * Brings `schema` up to date with the SqlClient in context. Runs every pending migration and records
 * it, all in one transaction (nested in the caller's, if any).
 */
export const migrate = Effect.fn("sluice.migrate")(function* (options: MigrateOptions = {}) {
  const sql = yield* SqlClient.SqlClient
  const schema = yield* validateSchema(options.schema ?? "sluice")
  const all = [...(options.migrations ?? bundled)].sort((a, b) => a.id - b.id)
  const table = sql(`${schema}.sluice_migrations`)
  const run = Effect.gen(function* () {
    yield* sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}, hashtext(${schema}))`
    yield* sql`CREATE SCHEMA IF NOT EXISTS ${sql(schema)}`
    // Migration files use unqualified names; they land in `schema` for this transaction only.
    yield* sql`SELECT set_config('search_path', ${schema}, true)`
    yield* sql`CREATE TABLE IF NOT EXISTS ${table} (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`
    const done = yield* sql<{ id: number; name: string; checksum: string }>`
      SELECT id, name, checksum FROM ${table} ORDER BY id`
    for (const row of done) {
      const known = all.find((m) => m.id === row.id)
      if (known === undefined) {
        return yield* new MigrationError({
          reason: `schema ${schema} has migration ${row.id} (${row.name}), which this version of Sluice does not know`
        })
      }
      if (known.checksum !== row.checksum) {
        return yield* new MigrationError({
          reason: `migration ${known.file} changed after it was applied to schema ${schema} (recorded checksum ${row.checksum}, file ${known.checksum}); add a new migration instead of editing an applied one`
        })
      }
    }
    const applied = new Set(done.map((row) => row.id))
    const pending = all.filter((m) => !applied.has(m.id))
    for (const m of pending) {
      yield* sql
        .unsafe(m.sql)
        .unprepared.pipe(
          Effect.mapError(
            (cause) => new MigrationError({ reason: `migration ${m.file} failed: ${cause.message}`, cause })
          )
        )
      yield* sql`INSERT INTO ${table} (id, name, checksum) VALUES (${m.id}, ${m.name}, ${m.checksum})`
    }
    return { schema, applied: pending } satisfies MigrateReport
  })
  return yield* sql
    .withTransaction(run)
    .pipe(
      Effect.catchTag("SqlError", (cause) =>
        Effect.fail(new MigrationError({ reason: `migrating schema ${schema} failed: ${cause.message}`, cause }))
      )
    )
})
