/**
 * How far a schema is migrated, read without changing anything: no DDL, no lock, no schema created.
 * For tools that must not migrate (the runner's `status` and `dlq` commands) and for readiness
 * checks; `migrate` is the one that brings a schema up to date.
 */
import { Effect } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import type { Migration } from "./Migration.ts"
import { type MigrationError, validateSchema } from "./Migrator.ts"
import { migrations as bundled } from "./migrations.generated.ts"

/** A schema's migrations compared with the bundled ones. */
export interface MigrationStatus {
  readonly schema: string
  /** The schema exists in the database. */
  readonly exists: boolean
  /** It has Sluice's migration table (false also when the schema is missing). */
  readonly migrated: boolean
  /** Known migrations recorded as applied, in order. */
  readonly applied: ReadonlyArray<Migration>
  /** Known migrations not applied yet, in order (every one when the schema is missing). */
  readonly pending: ReadonlyArray<Migration>
  /** Recorded migrations this version does not know (a newer Sluice migrated the schema). */
  readonly unknown: ReadonlyArray<{ readonly id: number; readonly name: string }>
  /** Known migrations recorded with another checksum (edited after they were applied). */
  readonly changed: ReadonlyArray<Migration>
}

/** True when every known migration is applied and nothing recorded is unknown or changed. */
export const isCurrent = (status: MigrationStatus): boolean =>
  status.migrated && status.pending.length === 0 && status.unknown.length === 0 && status.changed.length === 0

/** Reads the migration state of `schema` with the SqlClient in context. */
export const migrationStatus = (
  options: { readonly schema?: string; readonly migrations?: ReadonlyArray<Migration> } = {}
): Effect.Effect<MigrationStatus, MigrationError | SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const schema = yield* validateSchema(options.schema ?? "sluice")
    const all = [...(options.migrations ?? bundled)].sort((a, b) => a.id - b.id)
    const found = yield* sql<{ exists: boolean; migrated: boolean }>`
      SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = ${schema}) AS exists,
             to_regclass(${`${schema}.sluice_migrations`}) IS NOT NULL AS migrated`
    const exists = found[0]?.exists === true
    const migrated = found[0]?.migrated === true
    const done = migrated
      ? yield* sql<{ id: number; name: string; checksum: string }>`
          SELECT id, name, checksum FROM ${sql(`${schema}.sluice_migrations`)} ORDER BY id`
      : []
    const recorded = new Map(done.map((row) => [Number(row.id), row]))
    return {
      schema,
      exists,
      migrated,
      applied: all.filter((m) => recorded.has(m.id)),
      pending: all.filter((m) => !recorded.has(m.id)),
      unknown: done
        .filter((row) => !all.some((m) => m.id === Number(row.id)))
        .map((r) => ({ id: Number(r.id), name: r.name })),
      changed: all.filter((m) => {
        const row = recorded.get(m.id)
        return row !== undefined && row.checksum !== m.checksum
      })
    }
  })

/** What differs from this version's migrations, as one line (empty when current). */
export const describeDifferences = (status: MigrationStatus): string =>
  [
    ...(status.migrated ? [] : [`schema ${status.schema} is not migrated`]),
    ...(status.migrated ? status.pending.map((m) => `not applied: ${m.file}`) : []),
    ...status.unknown.map((m) => `unknown to this version: ${m.id} (${m.name})`),
    ...status.changed.map((m) => `changed after it was applied: ${m.file}`)
  ].join(", ")

/**
 * Why a schema cannot be used as it is, without migrating it (undefined when it can: a schema
 * merely behind this version, with pending migrations, still works for reading).
 * - `missing`: no such schema; `unmigrated`: no migration applied;
 * - `newer`: migrations this version does not know (a newer version migrated it), listed in `detail`;
 * - `changed`: applied migrations whose files changed since, listed in `detail`.
 */
export interface SchemaProblem {
  readonly reason: "missing" | "unmigrated" | "newer" | "changed"
  readonly detail?: string
}

/** The problem of a schema opened without migrating, if any (see SchemaProblem). */
export const schemaProblem = (status: MigrationStatus): SchemaProblem | undefined => {
  if (!status.exists) return { reason: "missing" }
  if (!status.migrated || status.applied.length === 0) return { reason: "unmigrated" }
  if (status.unknown.length > 0)
    return { reason: "newer", detail: status.unknown.map((m) => `migration ${m.id} (${m.name})`).join(", ") }
  if (status.changed.length > 0) return { reason: "changed", detail: status.changed.map((m) => m.file).join(", ") }
  return undefined
}
