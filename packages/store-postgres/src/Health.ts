/**
 * The store's readiness, for health endpoints: the database answers, and its schema has every
 * migration this version knows (and none it does not). Never fails: a problem is a `false` with a
 * `detail`, and a database that does not answer in time is one.
 */
import { Duration, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { describeDifferences, isCurrent, migrationStatus } from "./MigrationStatus.ts"

/** What a health check found. */
export interface Health {
  /** The database answered a query. */
  readonly database: boolean
  /** Every bundled migration is applied, and nothing unknown or changed is recorded. */
  readonly migrations: boolean
  /** What is wrong, when something is. */
  readonly detail?: string
}

export interface HealthOptions {
  /** @default "sluice" */
  readonly schema?: string
  /** How long the checks may take before they count as failed. @default 5 seconds */
  readonly timeout?: Duration.Input
}

/** Checks the database of the SqlClient in context and `schema`'s migrations. */
export const health = (options: HealthOptions = {}): Effect.Effect<Health, never, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const ping = yield* Effect.result(sql`SELECT 1 AS ok`)
    if (ping._tag === "Failure") return { database: false, migrations: false, detail: ping.failure.message }
    const status = yield* Effect.result(migrationStatus(options.schema === undefined ? {} : { schema: options.schema }))
    if (status._tag === "Failure") return { database: true, migrations: false, detail: status.failure.message }
    return isCurrent(status.success)
      ? { database: true, migrations: true }
      : { database: true, migrations: false, detail: describeDifferences(status.success) }
  }).pipe(
    Effect.timeoutOrElse({
      duration: options.timeout ?? Duration.seconds(5),
      orElse: () => Effect.succeed({ database: false, migrations: false, detail: "timed out" })
    })
  )
