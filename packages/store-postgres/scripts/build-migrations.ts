/**
 * Writes `src/migrations.generated.ts` from `migrations/*.sql`. Run after adding a migration:
 *   node packages/store-postgres/scripts/build-migrations.ts
 */
import { writeFileSync } from "node:fs"
import { generatedPath, renderMigrationsModule } from "./migrationsModule.ts"

writeFileSync(generatedPath, renderMigrationsModule())
console.log(`wrote ${generatedPath}`)
