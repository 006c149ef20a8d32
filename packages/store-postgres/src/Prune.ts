/**
 * Retention in SQL (core's Retention.ts): `prune` deletes the settled outbox rows a policy lets
 * go and `pruneRaw` the raw payloads, both in batches of their own transactions, then the outbox is
 * vacuumed. Why batches and a VACUUM: the claim walks the pending index (`outbox_claim`), and a
 * row that was pending once keeps its entry there until a vacuum removes it, deleted or not. With
 * a million such entries left over, each claim walked ~7,700 index pages (~7 ms per claim); so
 * retention vacuums what it deleted instead of waiting for autovacuum, which may be off or lag.
 */
import { RawPayloadsPendingError, Retention } from "@sluice/core"
import { Duration, Effect } from "effect"
import type { SqlClient, Statement } from "effect/sql"
import { toStoreError } from "./PgErrors.ts"
import { type Tables, tableNames } from "./Tables.ts"

const KEEP = -1
const ageMs = (d: Duration.Duration | null | undefined): number =>
  d === null || d === undefined ? KEEP : Duration.toMillis(d)

/**
 * The policy's test of a row (alias `x`) as SQL: delivered or dead longer ago than its route's
 * age. A route's ages are looked up in parallel arrays (`array_position`), the policy's own when
 * the route has no override; -1 keeps the rows. Pending rows never match.
 */
const expired = (sql: SqlClient.SqlClient, policy: Retention.RetentionPolicy, x: string) => {
  const routes = Object.keys(policy.routes ?? {})
  const of = (status: "delivered" | "dead") => {
    const overrides = routes.map((route) => Retention.agesOf(policy, route)[status] ?? KEEP)
    const column = status === "delivered" ? "delivered_at" : "next_attempt_at"
    const age = sql`(CASE WHEN array_position(${routes}::text[], ${sql.literal(x)}.route) IS NULL THEN ${ageMs(policy[status])}::bigint
      ELSE (${overrides}::bigint[])[array_position(${routes}::text[], ${sql.literal(x)}.route)] END)`
    return sql`(${sql.literal(`${x}.status = '${status}'`)} AND ${age} >= 0
      AND ${sql.literal(`${x}.${column}`)} < now() - ${age} * interval '1 millisecond')`
  }
  return sql`(${of("delivered")} OR ${of("dead")})`
}

interface Counted {
  readonly route: string | null
  readonly status: "delivered" | "dead" | null
  readonly n: number
  readonly last: string | null
}

const report = (rows: ReadonlyArray<Counted>, into: Parameters<typeof Retention.tally>[0]) => {
  for (const row of rows)
    if (row.route !== null && row.status !== null) Retention.tally(into, row.route, row.status, row.n)
}

/** One batch: the next `limit` expiring rows after `after` (id order, up to `hi`), deleted; its own transaction. */
const pruneBatch = (
  sql: SqlClient.SqlClient,
  t: Tables,
  policy: Retention.RetentionPolicy,
  after: string,
  hi: string,
  limit: number
) =>
  // The victims walk the primary key from `after`: each batch starts where the last one ended,
  // instead of walking again over the entries of rows it deleted (dead until vacuumed). Locked
  // with SKIP LOCKED, so a row a replay holds is left for the next prune; the DELETE tests the
  // policy again, in case a row changed before it was locked.
  sql<Counted>`
    WITH victims AS MATERIALIZED (
      SELECT c.outbox_id FROM ${t.outbox} c
      WHERE c.outbox_id > ${after}::bigint AND c.outbox_id <= ${hi}::bigint AND ${expired(sql, policy, "c")}
      ORDER BY c.outbox_id LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    ),
    gone AS (
      DELETE FROM ${t.outbox} o
      WHERE o.outbox_id = ANY(ARRAY(SELECT outbox_id FROM victims)) AND ${expired(sql, policy, "o")}
      RETURNING o.route, o.status
    )
    SELECT route, status, count(*)::int AS n, NULL AS last FROM gone GROUP BY route, status
    UNION ALL SELECT NULL, NULL, count(*)::int, max(outbox_id)::text FROM victims`

/**
 * VACUUMs and ANALYZEs the outbox (outside any transaction: VACUUM refuses to run in one). A role
 * that does not own the table may not vacuum it (PostgreSQL skips it with a warning): that is
 * logged, and the claim then waits for autovacuum to forget the deleted rows.
 */
export const vacuumOutbox = (sql: SqlClient.SqlClient, schema: string) =>
  Effect.gen(function* () {
    const [may] = yield* sql<{ may: boolean }>`
      SELECT pg_has_role(current_user, c.relowner, 'USAGE') OR r.rolsuper AS may
      FROM pg_class c, pg_roles r WHERE c.oid = ${`${schema}.outbox`}::regclass AND r.rolname = current_user`
    if (may?.may !== true) {
      return yield* Effect.logWarning("retention: the outbox was not vacuumed: this role does not own it", {
        table: `${schema}.outbox`
      })
    }
    // ANALYZE too: after most of the table went, VACUUM alone leaves the planner a row count of
    // the rows left with the statistics of the rows deleted (here: 1,293 pending rows estimated
    // out of 50,000 actually pending). Autovacuum would analyze as well, when it runs.
    yield* sql.unsafe(`VACUUM (ANALYZE) ${tableNames(schema).outbox}`)
  }).pipe(
    Effect.catch((error) =>
      Effect.logWarning("retention: VACUUM of the outbox failed; deleted rows stay in its indexes until autovacuum", {
        table: `${schema}.outbox`,
        error: String(error)
      })
    )
  )

export const prune = (sql: SqlClient.SqlClient, t: Tables, schema: string, policy: Retention.RetentionPolicy) =>
  Effect.gen(function* () {
    const problem = Retention.checkPolicy(policy)
    if (problem !== undefined) return yield* problem
    const counts = { delivered: 0, dead: 0, byRoute: {} as Record<string, Retention.PruneCounts> }
    if (policy.dryRun === true) {
      const rows = yield* sql<Counted>`
        SELECT route, status, count(*)::int AS n, NULL AS last FROM ${t.outbox} c
        WHERE ${expired(sql, policy, "c")} GROUP BY route, status`.pipe(Effect.mapError(toStoreError("prune")))
      report(rows, counts)
      return Retention.makeReport(counts, true, 0)
    }
    const limit = policy.batchSize ?? Retention.defaultBatchSize
    // Rows appended while the prune runs are young: it stops at the largest id it saw at the start.
    const [top] = yield* sql<{ hi: string | null }>`SELECT max(outbox_id)::text AS hi FROM ${t.outbox}`.pipe(
      Effect.mapError(toStoreError("prune"))
    )
    const hi = top?.hi ?? "0"
    let after = "0"
    let batches = 0
    for (;;) {
      const rows = yield* pruneBatch(sql, t, policy, after, hi, limit).pipe(Effect.mapError(toStoreError("prune")))
      report(rows, counts)
      const scanned = rows.find((r) => r.route === null)
      if (rows.some((r) => r.route !== null && r.n > 0)) batches++
      if (scanned === undefined || scanned.n < limit || scanned.last === null) break
      after = scanned.last
    }
    if (policy.vacuum !== false && counts.delivered + counts.dead > 0) yield* vacuumOutbox(sql, schema)
    return Retention.makeReport(counts, false, batches)
  })

/** Raw payloads with events that have pending outbox rows, found from the (small) pending side. */
const pendingRaws = (t: Tables, sql: SqlClient.SqlClient): Statement.Fragment => sql`
  SELECT e.raw_id FROM ${t.outbox} o JOIN ${t.events} e ON e.event_id = o.event_id
  WHERE o.status = 'pending' AND e.raw_id IS NOT NULL`

export const pruneRaw = (
  sql: SqlClient.SqlClient,
  t: Tables & { readonly resolutions: Statement.Identifier },
  policy: Retention.RawRetentionPolicy
) =>
  Effect.gen(function* () {
    const problem = Retention.checkRawPolicy(policy)
    if (problem !== undefined) return yield* problem
    const age = Duration.toMillis(policy.olderThan)
    const cutoff = sql`now() - ${age}::bigint * interval '1 millisecond'`
    const [held] = yield* sql<{ n: number; example: string | null }>`
      SELECT count(*)::int AS n, min(r.raw_id::text) AS example FROM ${t.raw} r
      WHERE r.received_at < ${cutoff} AND r.raw_id IN (${pendingRaws(t, sql)})`.pipe(
      Effect.mapError(toStoreError("pruneRaw"))
    )
    if (held !== undefined && held.n > 0)
      return yield* new RawPayloadsPendingError({ rawPayloads: held.n, exampleRawId: held.example ?? "" })
    if (policy.dryRun === true) {
      const [count] = yield* sql<{ n: number }>`
        SELECT count(*)::int AS n FROM ${t.raw} WHERE received_at < ${cutoff}`.pipe(
        Effect.mapError(toStoreError("pruneRaw"))
      )
      return { dryRun: true, deleted: count?.n ?? 0, batches: 0 } satisfies Retention.RawPruneReport
    }
    const limit = policy.batchSize ?? Retention.defaultBatchSize
    let after = "00000000-0000-0000-0000-000000000000"
    let deleted = 0
    let batches = 0
    for (;;) {
      // Migration 0007 lets a DELETE of raw payloads through only in a transaction that set
      // sluice.prune_raw locally; the raw payloads of events that became pending since the check
      // (a replay, a re-derivation) are skipped.
      const batch = yield* sql
        .withTransaction(
          Effect.andThen(
            sql`SELECT set_config('sluice.prune_raw', 'on', true)`,
            sql<{ n: number; scanned: number; last: string | null }>`
              WITH victims AS MATERIALIZED (
                SELECT r.raw_id FROM ${t.raw} r
                WHERE r.raw_id > ${after}::uuid AND r.received_at < ${cutoff}
                  AND r.raw_id NOT IN (${pendingRaws(t, sql)})
                ORDER BY r.raw_id LIMIT ${limit} FOR UPDATE SKIP LOCKED
              ),
              gone AS (DELETE FROM ${t.raw} WHERE raw_id IN (SELECT raw_id FROM victims) RETURNING raw_id),
              resolved AS (DELETE FROM ${t.resolutions} WHERE raw_id IN (SELECT raw_id FROM gone))
              SELECT (SELECT count(*)::int FROM gone) AS n, count(*)::int AS scanned, max(raw_id::text) AS last
              FROM victims`
          )
        )
        .pipe(Effect.mapError(toStoreError("pruneRaw")))
      const n = batch[0]?.n ?? 0
      deleted += n
      if (n > 0) batches++
      const last = batch[0]?.last ?? null
      if (last === null || (batch[0]?.scanned ?? 0) < limit) break
      after = last
    }
    return { dryRun: false, deleted, batches } satisfies Retention.RawPruneReport
  })
