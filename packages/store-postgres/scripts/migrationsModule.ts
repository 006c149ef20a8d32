/**
 * Renders `src/migrations.generated.ts` from the package's `migrations/*.sql`: the SQL travels
 * inside a module so runtimes without a file system (Deno deploy, edge workers) can migrate too.
 * Used by `build-migrations.ts` to write the file and by a test that fails when the two disagree.
 */
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** The package's migrations directory. */
export const migrationsDir: string = join(import.meta.dirname, "..", "migrations")
/** Where the generated module lives. */
export const generatedPath: string = join(import.meta.dirname, "..", "src", "migrations.generated.ts")

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

/** Reads the migration files in order; fails on a file name that does not follow `NNNN_name.sql`. */
export const readMigrationFiles = (dir: string = migrationsDir) =>
  readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .sort()
    .map((file) => {
      const match = FILE.exec(file)
      if (match === null) throw new Error(`migration file ${file} must be named NNNN_name.sql`)
      const sql = readFileSync(join(dir, file), "utf8")
      return {
        id: Number(match[1]),
        name: match[2]!,
        file,
        checksum: createHash("sha256").update(sql, "utf8").digest("hex"),
        sql
      }
    })

/** The text of the generated module for `dir`. */
export const renderMigrationsModule = (dir: string = migrationsDir): string => {
  const files = readMigrationFiles(dir)
  const entries = files.map(
    (m) =>
      `  {\n    id: ${m.id},\n    name: ${JSON.stringify(m.name)},\n    file: ${JSON.stringify(m.file)},\n` +
      `    checksum: ${JSON.stringify(m.checksum)},\n    sql: ${JSON.stringify(m.sql)}\n  }`
  )
  return [
    "// DO NOT EDIT: generated from migrations/*.sql by packages/store-postgres/scripts/build-migrations.ts",
    "// (`node packages/store-postgres/scripts/build-migrations.ts`); test/migrations.test.ts checks it is current.",
    'import type { Migration } from "./Migration.ts"',
    "",
    "/** Every migration, in order, with the SHA-256 of its SQL. */",
    `export const migrations: ReadonlyArray<Migration> = [\n${entries.join(",\n")}\n]`,
    ""
  ].join("\n")
}
