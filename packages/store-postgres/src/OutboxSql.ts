/**
 * The outbox state machine (core's Outbox.ts) in SQL: claim, complete, replay, list and stats.
 * Each operation is ONE statement whatever the number of rows; each transition that records a
 * result is guarded in its WHERE clause by the row's current, unexpired lease token (fencing).
 * Times come from the database's now(), one clock for every relay process.
 */
import type { ClaimOptions, Completion, OutboxFilter, PurgeFilter, ReplayFilter } from "@sluice/core"
import { Duration, Effect, Option } from "effect"
import type { SqlClient, SqlError, Statement } from "effect/sql"
import * as FixedStatement from "./FixedStatement.ts"
import type { ClaimRow, EntryRow } from "./Rows.ts"
import type { TableNames, Tables } from "./Tables.ts"

const entryColumns = `o.outbox_id::text AS outbox_id, o.event_id::text AS event_id, o.route, o.topic, o.status,
  o.attempts, o.next_attempt_at, o.lease_owner, o.lease_token::text AS lease_token, o.lease_expires_at,
  o.last_error, o.ordering_key, o.replays, o.created_at, o.delivered_at`

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ID = /^[1-9]\d{0,17}$/

/** True when `id` can name a row (a bigint in decimal). */
export const isId = (id: string): boolean => ID.test(id)

/** Ids that can name a row; anything else matches nothing. */
export const validIds = (ids: ReadonlyArray<string>): ReadonlyArray<string> => ids.filter(isId)

/**
 * Leases up to `limit` due rows. The candidates are locked with SKIP LOCKED, so concurrent relays
 * never wait for each other nor take the same row; on ordered routes a row is a candidate only when
 * no earlier row of its (route, ordering_key) is still pending (leased, retrying or due).
 *
 * Run on its own, the claim commits without waiting for the WAL flush (`synchronous_commit` off for
 * its own transaction). A lease is all that a database crash can then forget: its rows become
 * claimable as soon as the database is back, instead of when the lease expires, and are delivered
 * again, perhaps while the first relay's request is still in flight (at-least-once; receivers
 * deduplicate on the event id). Events, outbox rows and recorded results stay durable: `complete`
 * commits synchronously, and its flush covers the claim written before it; an ordered route's next
 * row still waits until its predecessor is recorded delivered. Inside a caller's transaction (one
 * opened through the SqlClient) the setting would reach the caller's own commit, so there the claim
 * is sent without it.
 */
export const claim = (
  sql: SqlClient.SqlClient,
  statements: Statements,
  options: ClaimOptions
): Effect.Effect<ReadonlyArray<ClaimRow>, SqlError.SqlError> =>
  Effect.flatMap(Effect.serviceOption(sql.transactionService), (transaction) =>
    FixedStatement.executeUnprepared<ClaimRow, ClaimOptions>(
      sql,
      Option.isSome(transaction) ? statements.claimInTransaction : statements.claim,
      options
    )
  )

// Unprepared (see `complete`). The candidates go through ARRAY(...) so the update finds them by
// primary key: written as a join with a CTE, the planner hashed the whole outbox and events tables
// on every claim (28 ms instead of 10 ms for 1000 rows out of 50k, and growing with the table):
//   Update on outbox -> Nested Loop
//     -> Index Scan using outbox_pkey (outbox_id = ANY ($4))  -> Index Scan using events_pkey
// Paused routes are left out with NOT IN (a subplan hashed once per claim). Written as
// `c.route <> ALL(ARRAY(SELECT route ...))` the planner guessed that almost no row passes, so the
// LIMIT no longer bounded the plan's cost: past ~17,000 pending rows it went over `jit_above_cost`,
// and each claim spent up to 0.8 s compiling itself (the drain of 100,000 rows fell 37-fold).
// Only the columns a claimed row does not already know come back (ClaimRow): its status is
// pending, its lease owner the claimer, it has no delivered_at. The payload comes back as its JSON
// text, decoded only if the event is read (Rows.toClaimed): each column converted on both sides
// costs the drain (measured on the bare statements, 2 workers: 1.22-1.33x the rows per second).
const claimStatement = (t: TableNames, asyncCommit: boolean) =>
  FixedStatement.make<ClaimOptions>((p) => {
    const routes = p((o) => o.routes ?? null)
    // `SET LOCAL` would need a transaction block around the claim (more round trips); set_config
    // with is_local reaches the end of the statement's own implicit transaction. A scalar
    // subquery runs once per claim, not once per row; a claim that takes no row never runs it, and
    // has nothing to commit. The rows carry its result as `commit_mode` (not read: ClaimRow).
    const commitMode = asyncCommit ? `, (SELECT set_config('synchronous_commit', 'off', true)) AS commit_mode` : ""
    return `
    WITH claimed AS (
      UPDATE ${t.outbox} o
      SET lease_owner = ${p((o) => o.owner)}, lease_token = gen_random_uuid(),
          lease_expires_at = now() + ${p((o) => Duration.toMillis(o.lease))} * interval '1 millisecond'
      FROM ${t.events} e
      WHERE e.event_id = o.event_id AND o.outbox_id = ANY(ARRAY(
        SELECT c.outbox_id FROM ${t.outbox} c
        WHERE c.status = 'pending' AND c.next_attempt_at <= now()
          AND (c.lease_expires_at IS NULL OR c.lease_expires_at <= now())
          AND (${routes}::text[] IS NULL OR c.route = ANY(${routes}::text[]))
          AND c.route NOT IN (SELECT route FROM ${t.routePauses})
          AND (c.ordering_key IS NULL OR NOT EXISTS (
            SELECT 1 FROM ${t.outbox} p
            WHERE p.status = 'pending' AND p.ordering_key IS NOT NULL
              AND p.route = c.route AND p.ordering_key = c.ordering_key AND p.outbox_id < c.outbox_id))
        ORDER BY c.next_attempt_at, c.outbox_id
        LIMIT ${p((o) => Math.max(0, Math.floor(o.limit)))}
        FOR UPDATE SKIP LOCKED))
      RETURNING o.outbox_id, o.event_id, o.route, o.topic, o.attempts, o.next_attempt_at, o.lease_token,
                o.lease_expires_at, o.last_error, o.ordering_key, o.replays, o.created_at,
                e.event_type, e.entity_id, e.entity_type, e.trace_id, e.schema_version, e.occurred_at, e.payload,
                e.supersedes
    )
    SELECT o.outbox_id::text AS outbox_id, o.event_id::text AS event_id, o.route, o.topic, o.attempts,
           o.next_attempt_at, o.lease_token::text AS lease_token, o.lease_expires_at, o.last_error,
           o.ordering_key, o.replays, o.created_at, o.event_type, o.entity_id, o.entity_type, o.trace_id,
           o.schema_version, o.occurred_at, o.payload::text AS payload, o.supersedes::text AS supersedes${commitMode}
    FROM claimed o
    ORDER BY o.next_attempt_at, o.outbox_id`
  })

/**
 * Records results in bulk, in one statement. A result applies only while its row is pending and its
 * token is the row's current, unexpired lease; the statement returns the ids it changed. `results`
 * must hold valid ids and tokens, each row at most once (see `complete` in PgEventStore).
 *
 * Deliveries and releases (the bulk) carry no per-row data, so they are matched by primary key plus
 * an `id/token` pair list: index lookups and a hashed `= ANY`, whatever the batch size. Joining
 * every result with `unnest(...)` instead let the planner loop over the unnest for every row (47 ms
 * instead of 3 ms for 500 results, then 10 ms again at 1000: the plan flipped with the size).
 * Retries and dead letters carry an error and a time, so they keep the join; they are few.
 * Sent unprepared, so each run is planned with its arrays in hand. `frees` says whether the change
 * may have made a row claimable (a release, a retry, or a settled row of an ordered route).
 */
export const complete = (
  sql: SqlClient.SqlClient,
  statements: Statements,
  results: ReadonlyArray<Completion>
): Effect.Effect<ReadonlyArray<{ outbox_id: string; frees: boolean }>, SqlError.SqlError> =>
  FixedStatement.executeUnprepared<{ outbox_id: string; frees: boolean }, CompleteInput>(sql, statements.complete, {
    delivered: results.filter((r) => r._tag === "Delivered"),
    released: results.filter((r) => r._tag === "Release"),
    failed: results.filter((r) => r._tag === "Retry" || r._tag === "Dead")
  })

interface CompleteInput {
  readonly delivered: ReadonlyArray<Completion>
  readonly released: ReadonlyArray<Completion>
  readonly failed: ReadonlyArray<Completion>
}

const ids = (rs: ReadonlyArray<Completion>) => rs.map((r) => r.outboxId)
const pairs = (rs: ReadonlyArray<Completion>) => rs.map((r) => `${r.outboxId}/${r.token}`)

const completeStatement = (t: TableNames) =>
  FixedStatement.make<CompleteInput>((p) => {
    const failedIds = p((i) => ids(i.failed))
    return `
    WITH delivered AS (
      UPDATE ${t.outbox} o
      SET status = 'delivered', attempts = o.attempts + 1, delivered_at = now(),
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      WHERE o.outbox_id = ANY(${p((i) => ids(i.delivered))}::bigint[])
        AND (o.outbox_id::text || '/' || o.lease_token::text) = ANY(${p((i) => pairs(i.delivered))}::text[])
        AND o.status = 'pending' AND o.lease_expires_at > now()
      RETURNING o.outbox_id, o.ordering_key IS NOT NULL AS frees
    ),
    released AS (
      UPDATE ${t.outbox} o
      SET lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      WHERE o.outbox_id = ANY(${p((i) => ids(i.released))}::bigint[])
        AND (o.outbox_id::text || '/' || o.lease_token::text) = ANY(${p((i) => pairs(i.released))}::text[])
        AND o.status = 'pending' AND o.lease_expires_at > now()
      RETURNING o.outbox_id, true AS frees
    ),
    failed AS (
      UPDATE ${t.outbox} o
      SET status = CASE i.kind WHEN 'dead' THEN 'dead' ELSE 'pending' END, attempts = o.attempts + 1,
          next_attempt_at = CASE i.kind WHEN 'retry' THEN now() + i.delay_ms * interval '1 millisecond' ELSE o.next_attempt_at END,
          last_error = i.error,
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
      FROM unnest(${failedIds}::bigint[], ${p((i) => i.failed.map((r) => r.token))}::uuid[],
                  ${p((i) => i.failed.map((r) => (r._tag === "Retry" ? "retry" : "dead")))}::text[],
                  ${p((i) => i.failed.map((r) => (r._tag === "Retry" || r._tag === "Dead" ? r.error : "")))}::text[],
                  ${p((i) => i.failed.map((r) => (r._tag === "Retry" ? Math.max(0, Math.round(r.delayMs)) : 0)))}::bigint[])
           AS i(outbox_id, token, kind, error, delay_ms)
      WHERE o.outbox_id = ANY(${failedIds}::bigint[]) AND o.outbox_id = i.outbox_id
        AND o.lease_token = i.token AND o.status = 'pending' AND o.lease_expires_at > now()
      RETURNING o.outbox_id, i.kind = 'retry' OR o.ordering_key IS NOT NULL AS frees
    )
    SELECT outbox_id::text AS outbox_id, frees FROM delivered
    UNION ALL SELECT outbox_id::text, frees FROM released
    UNION ALL SELECT outbox_id::text, frees FROM failed`
  })

/** The hot statements of a schema (claim and complete), built once when the store starts. */
export interface Statements {
  /** The claim on its own: committed asynchronously (see `claim`). */
  readonly claim: FixedStatement.FixedStatement<ClaimOptions>
  /** The claim inside a caller's transaction, which keeps that transaction's commit mode. */
  readonly claimInTransaction: FixedStatement.FixedStatement<ClaimOptions>
  readonly complete: FixedStatement.FixedStatement<CompleteInput>
}

export const statements = (t: TableNames): Statements => ({
  claim: claimStatement(t, true),
  claimInTransaction: claimStatement(t, false),
  complete: completeStatement(t)
})

/** True when `token` could be a lease token (others are refused without asking the database). */
export const isToken = (token: string): boolean => UUID.test(token)

/** Dead rows matching the filter go back to pending: attempts reset, replays+1, last_error kept. */
export const replay = (sql: SqlClient.SqlClient, t: Tables, filter: ReplayFilter) => {
  const clauses: Array<Statement.Fragment> = [sql`o.status = 'dead'`]
  if (filter.outboxIds !== undefined) clauses.push(sql`o.outbox_id = ANY(${validIds(filter.outboxIds)}::bigint[])`)
  if (filter.route !== undefined) clauses.push(sql`o.route = ${filter.route}`)
  if (filter.eventType !== undefined) {
    clauses.push(
      sql`EXISTS (SELECT 1 FROM ${t.events} e WHERE e.event_id = o.event_id AND e.event_type = ${filter.eventType})`
    )
  }
  return Effect.map(
    sql<{ n: number }>`
      WITH replayed AS (
        UPDATE ${t.outbox} o SET status = 'pending', attempts = 0, replays = o.replays + 1, next_attempt_at = now(),
          lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL
        WHERE ${sql.and(clauses)}
        RETURNING 1
      )
      SELECT count(*)::int AS n FROM replayed`,
    (rows) => rows[0]?.n ?? 0
  )
}

/** Deletes dead rows (all, or one route's); returns how many. */
export const purgeDead = (sql: SqlClient.SqlClient, t: Tables, filter: PurgeFilter) => {
  const clauses: Array<Statement.Fragment> = [sql`status = 'dead'`]
  if (filter.route !== undefined) clauses.push(sql`route = ${filter.route}`)
  return Effect.map(
    sql<{ n: number }>`
      WITH gone AS (DELETE FROM ${t.outbox} WHERE ${sql.and(clauses)} RETURNING 1)
      SELECT count(*)::int AS n FROM gone`,
    (rows) => rows[0]?.n ?? 0
  )
}

const STATUSES = new Set(["pending", "delivered", "dead"])

/**
 * Rows in id order. The status test is written as a literal (after checking it is a status) so the
 * planner can use the partial index of that status: listing a few dead letters stays cheap next
 * to millions of delivered rows.
 */
export const list = (sql: SqlClient.SqlClient, t: Tables, filter: OutboxFilter) => {
  const clauses: Array<Statement.Fragment> = [
    sql`o.outbox_id > ${filter.after === undefined ? "0" : (validIds([filter.after])[0] ?? "0")}::bigint`
  ]
  if (filter.status !== undefined && STATUSES.has(filter.status)) {
    clauses.push(sql.literal(`o.status = '${filter.status}'`))
  }
  if (filter.route !== undefined) clauses.push(sql`o.route = ${filter.route}`)
  if (filter.outboxIds !== undefined) clauses.push(sql`o.outbox_id = ANY(${validIds(filter.outboxIds)}::bigint[])`)
  return sql<EntryRow>`
    SELECT ${sql.literal(entryColumns)} FROM ${t.outbox} o
    WHERE ${sql.and(clauses)}
    ORDER BY o.outbox_id LIMIT ${Math.max(0, Math.floor(filter.limit ?? 100))}`
}

/** Per-route counts; `leased` counts pending rows whose lease has not expired. */
export const stats = (sql: SqlClient.SqlClient, t: Tables) =>
  sql<{
    route: string
    pending: number
    leased: number
    delivered: number
    dead: number
    oldest_pending_at: Date | null
  }>`
    SELECT route,
      count(*) FILTER (WHERE status = 'pending')::int AS pending,
      count(*) FILTER (WHERE status = 'pending' AND lease_expires_at > now())::int AS leased,
      count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
      count(*) FILTER (WHERE status = 'dead')::int AS dead,
      min(created_at) FILTER (WHERE status = 'pending') AS oldest_pending_at
    FROM ${t.outbox} GROUP BY route ORDER BY route`

/**
 * Per-route backlog read through the two partial indexes only (`outbox_claim` holds the pending
 * rows, `outbox_dead` the dead ones), never the delivered rows, whose number grows without bound.
 * One scan with `status IN ('pending', 'dead')` would match neither index's predicate and read the
 * whole table (with 2 million delivered rows: 170 ms, against under 1 ms for this). A route can
 * come back twice, once per branch.
 */
export const backlogText = (t: TableNames): string => `
    SELECT route, count(*)::int AS pending,
      count(*) FILTER (WHERE lease_expires_at > now())::int AS leased,
      0 AS dead, min(created_at) AS oldest_pending_at
    FROM ${t.outbox} WHERE status = 'pending' GROUP BY route
    UNION ALL
    SELECT route, 0, 0, count(*)::int, NULL FROM ${t.outbox} WHERE status = 'dead' GROUP BY route`

export const backlog = (sql: SqlClient.SqlClient, t: TableNames) =>
  sql.unsafe<{ route: string; pending: number; leased: number; dead: number; oldest_pending_at: Date | null }>(
    backlogText(t)
  )
