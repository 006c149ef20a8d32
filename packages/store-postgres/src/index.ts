/**
 * `@sluice/store-postgres`: the store (EventStore, OutboxQueue, OutboxAdmin, SubscriptionStore) on
 * PostgreSQL (postgres.js) and on embedded PGlite: one schema (the package's `migrations/`, whose
 * result is `schema.sql`), one SQL text, two drivers.
 */
export { type Health, type HealthOptions, health } from "./Health.ts"
export type { Migration } from "./Migration.ts"
export {
  describeDifferences,
  isCurrent,
  type MigrationStatus,
  migrationStatus,
  type SchemaProblem,
  schemaProblem
} from "./MigrationStatus.ts"
export { type MigrateOptions, type MigrateReport, MigrationError, migrate } from "./Migrator.ts"
export { migrations } from "./migrations.generated.ts"
export * as PgEventStore from "./PgEventStore.ts"
export * as Pglite from "./Pglite.ts"
export { PgNotifications } from "./PgNotifications.ts"
export * as PostgresJs from "./PostgresJs.ts"
