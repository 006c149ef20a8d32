/**
 * The PostgreSQL server builds the schema `schema.sql` describes, as PGlite does (schema.test.ts):
 * one migration text, one schema, whichever driver runs it.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { migrateAndDump, schemaPath } from "../scripts/schemaDump.ts"
import { PostgresJs } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

describe("schema.sql on PostgreSQL", () => {
  it.live("is what the migrations build on the server", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("schema_dump")
      yield* Effect.addFinalizer(() => dropSchema(schema))
      const dumped = yield* migrateAndDump(schema).pipe(
        Effect.provide(PostgresJs.layer({ url: databaseUrl, poolSize: 1 }))
      )
      assert.strictEqual(dumped, readFileSync(schemaPath, "utf8"))
    }).pipe(Effect.scoped)
  )
})
