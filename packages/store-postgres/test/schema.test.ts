/**
 * The committed schema dump (`schema.sql`) must be what the migrations build: a migration that
 * changes the schema changes the dump in the same commit, so a reviewer sees the resulting schema,
 * and a dump edited by hand, or a migration edited without it, fails here. On PGlite in memory;
 * schema.integration.test.ts checks the PostgreSQL server against the same file.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { migrateAndDump, schemaPath } from "../scripts/schemaDump.ts"
import { Pglite } from "../src/index.ts"
import { freshSchemaName, sharedPglite, startupTimeout } from "./utils.ts"

const pglite = sharedPglite()

describe("schema.sql", () => {
  it.effect(
    "is what the migrations build (run scripts/build-schema.ts after adding one)",
    () =>
      Effect.gen(function* () {
        const { sql } = yield* Pglite.fromInstance(pglite())
        const dumped = yield* migrateAndDump(freshSchemaName("schema_dump")).pipe(
          Effect.provideService(SqlClient.SqlClient, sql)
        )
        assert.strictEqual(dumped, readFileSync(schemaPath, "utf8"))
      }).pipe(Effect.scoped),
    startupTimeout
  )
})
