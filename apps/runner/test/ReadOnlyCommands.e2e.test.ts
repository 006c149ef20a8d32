/**
 * End to end: `status` and `dlq list | show | replay | purge` open the store without migrating and
 * do no DDL. A missing or unmigrated schema (a mistyped `store.schema`), or an embedded data
 * directory holding no database, is an error naming it (exit 1) and nothing is created; a schema
 * behind the bundled migrations is reported by `status`. On embedded PGlite and on PostgreSQL.
 */
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { migrate, migrations, Pglite, PostgresJs } from "@sluice/store-postgres"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import type { SluiceConfigInput } from "../src/Config.ts"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema, query } from "./support/database.ts"
import { envWithout, runToEnd } from "./support/sluice.ts"

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

const readOnly: ReadonlyArray<ReadonlyArray<string>> = [
  ["status", "--sample", "0 seconds"],
  ["dlq", "list"],
  ["dlq", "show", "1"],
  ["dlq", "replay", "--all"],
  ["dlq", "purge", "--yes"]
]

/** Runs `f` on PGlite in `dataDir` in this process (no sluice running). */
const onPglite = <A>(dataDir: string, f: Effect.Effect<A, unknown, SqlClient.SqlClient>) =>
  Effect.runPromise(f.pipe(Effect.provide(Pglite.layer({ dataDir }))))

const namespaces = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ nspname: string }>`SELECT nspname FROM pg_namespace ORDER BY nspname`
  return rows.map((r) => r.nspname)
})

describe("read-only commands on embedded PGlite", () => {
  it("create no data directory, no schema and no table; a behind schema is reported by status", async () => {
    const config = (schema: string): SluiceConfigInput => ({
      store: { driver: "embedded", dataDir: "data", schema },
      logging: { format: "json" }
    })
    const { dir, file } = writeConfig(config("sluicee"))
    const dataDir = join(dir, "data")
    const env = envWithout()
    // Every config beside the first, so that dataDir "data" (relative to the file) is one directory.
    const sibling = (schema: string) => {
      const path = join(dir, `with-${schema}.json`)
      writeFileSync(path, JSON.stringify(config(schema)))
      return path
    }
    const cli = (args: ReadonlyArray<string>, configFile = file) =>
      runToEnd([...args, "--config", configFile], { cwd: dir, env })

    // No database there yet: nothing is created.
    const empty = await cli(["status"])
    expect(empty.code).toBe(1)
    expect(empty.stderr).toContain(
      `error: cannot open the embedded store: ${dataDir} holds no database; run sluice migrate to create it, or check store.dataDir`
    )
    expect(existsSync(dataDir)).toBe(false)

    // A database with schema "sluice"; the config names "sluicee". One at a time: the lock.
    const good = sibling("sluice")
    expect((await cli(["migrate"], good)).code).toBe(0)
    for (const args of [["status"], ["dlq", "list"], ["dlq", "purge", "--yes"]]) {
      const refused = await cli(args)
      expect(refused.code, args.join(" ")).toBe(1)
      expect(refused.stderr).toContain(
        `error: cannot open the embedded store: schema "sluicee" does not exist in embedded PGlite in ${dataDir}; run sluice migrate to create it, or check store.schema`
      )
    }
    // A schema migrated by an older version: one of the bundled migrations applied.
    await onPglite(dataDir, migrate({ schema: "behind", migrations: migrations.slice(0, 1) }))
    const behind = await cli(["status", "--sample", "0 seconds"], sibling("behind"))
    expect(behind.code).toBe(0)
    expect(behind.stdout).toContain(
      `migrations: 1 of ${migrations.length} applied (pending: ${migrations
        .slice(1)
        .map((m) => m.file)
        .join(", ")}); run sluice migrate`
    )
    const after = await onPglite(
      dataDir,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const applied = yield* sql<{ n: number }>`SELECT count(*)::int AS n FROM behind.sluice_migrations`
        return { names: yield* namespaces, applied: applied[0]!.n }
      })
    )
    expect(after.names).toContain("sluice")
    expect(after.names).not.toContain("sluicee")
    expect(after.applied).toBe(1)
  }, 240_000)
})

describe("read-only commands on PostgreSQL", () => {
  const env = { ...process.env, DATABASE_URL: databaseUrl }
  const cli = (schema: string, args: ReadonlyArray<string>) =>
    runToEnd([...args, "--config", writeConfig({ store: { driver: "postgres", schema } }).file], { env })
  const schemaExists = async (schema: string) =>
    (await query(`SELECT 1 FROM pg_namespace WHERE nspname = '${schema}'`)).length > 0

  it("a missing schema is an error naming it, for every command, and none is created", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const results = await Promise.all(readOnly.map((args) => cli(schema, args)))
    for (const [i, result] of results.entries()) {
      expect(result.code, readOnly[i]!.join(" ")).toBe(1)
      expect(result.stderr).toMatch(
        new RegExp(
          `error: cannot open the postgres store: schema "${schema}" does not exist in PostgreSQL at .+; run sluice migrate to create it, or check store.schema`
        )
      )
    }
    expect(await schemaExists(schema)).toBe(false)
  }, 60_000)

  it("an unmigrated schema is an error and stays empty; a behind one is reported by status and left as it is", async () => {
    const bare = freshSchema()
    cleanup.push(() => dropSchema(bare))
    await query(`CREATE SCHEMA ${bare}`)
    const unmigrated = await cli(bare, ["dlq", "list"])
    expect(unmigrated.code).toBe(1)
    expect(unmigrated.stderr).toContain(`schema "${bare}" in PostgreSQL at`)
    expect(unmigrated.stderr).toContain("has no Sluice tables (it was never migrated); run sluice migrate")
    expect(await query(`SELECT 1 FROM information_schema.tables WHERE table_schema = '${bare}'`)).toEqual([])

    const behind = freshSchema()
    cleanup.push(() => dropSchema(behind))
    await Effect.runPromise(
      migrate({ schema: behind, migrations: migrations.slice(0, 1) }).pipe(
        Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 1 }))
      )
    )
    const status = await cli(behind, ["status", "--json", "--sample", "0 seconds"])
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({
      migrations: { applied: 1, known: migrations.length, pending: migrations.slice(1).map((m) => m.file) }
    })
    const recorded = await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${behind}.sluice_migrations`)
    expect(recorded[0]!.n).toBe(1)
  }, 60_000)
})
