/**
 * Writes `src/migrations.generated.ts` from `migrations/*.sql`, and `schema.sql`: those migrations
 * applied to a fresh schema of an in-memory PGlite, read back from the catalog (schemaDump.ts).
 * Run after adding a migration:
 *   node packages/store-postgres/scripts/build-migrations.ts
 */
import { writeFileSync } from "node:fs"
import { Effect } from "effect"
import * as Pglite from "../src/Pglite.ts"
import { generatedPath, readMigrationFiles, renderMigrationsModule } from "./migrationsModule.ts"
import { migrateAndDump, schemaPath } from "./schemaDump.ts"

writeFileSync(generatedPath, renderMigrationsModule())
console.log(`wrote ${generatedPath}`)

// The files just read, not the module this process imported before it was rewritten.
const dump = migrateAndDump("sluice_schema_dump", readMigrationFiles())
writeFileSync(schemaPath, await Effect.runPromise(dump.pipe(Effect.provide(Pglite.layer()))))
console.log(`wrote ${schemaPath}`)
