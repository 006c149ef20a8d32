/**
 * The generated migrations module must be exactly what `migrations/*.sql` renders to: a stale module
 * would ship a schema the SQL files do not describe.
 */

import { readFileSync } from "node:fs"
import { describe, it } from "@effect/vitest"
import { assert } from "vitest"
import { generatedPath, readMigrationFiles, renderMigrationsModule } from "../scripts/migrationsModule.ts"
import { migrations } from "../src/index.ts"

describe("migrations module", () => {
  it("is current with migrations/*.sql (run scripts/build-migrations.ts after editing one)", () => {
    assert.strictEqual(readFileSync(generatedPath, "utf8"), renderMigrationsModule())
  })

  it("carries every file in order, numbered without gaps, with its SHA-256", () => {
    const files = readMigrationFiles()
    assert.deepStrictEqual(
      migrations.map((m) => [m.id, m.file, m.checksum]),
      files.map((f) => [f.id, f.file, f.checksum])
    )
    assert.deepStrictEqual(
      migrations.map((m) => m.id),
      migrations.map((_, i) => i + 1)
    )
  })

  it("is the only DDL: adapters create no tables", () => {
    for (const file of ["Append.ts", "OutboxSql.ts", "PgEventStore.ts"]) {
      const source = readFileSync(new URL(`../src/${file}`, import.meta.url), "utf8")
      assert.notMatch(source, /CREATE\s+(TABLE|INDEX)/i, file)
    }
  })
})
