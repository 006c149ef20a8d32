/**
 * The outbox on PostgreSQL (and PGlite): the OutboxQueue relays claim from and the OutboxAdmin
 * operators read, built by `PgEventStore.makeStores` on the same SqlClient and wake-ups as the
 * EventStore, whose appends create the rows. The statements are OutboxSql.ts; this file turns
 * their rows into the ports' values and wakes relays when a result makes work.
 */
import {
  backlogOf,
  type ClaimOptions,
  type Completion,
  OutboxAdmin,
  type OutboxFilter,
  OutboxQueue,
  type OutboxStats,
  type PurgeFilter,
  type ReplayFilter,
  type RetentionPolicy,
  statsOf
} from "@sluice/core"
import { DateTime, Effect } from "effect"
import type { SqlClient } from "effect/sql"
import * as OutboxSql from "./OutboxSql.ts"
import { toStoreError } from "./PgErrors.ts"
import * as Prune from "./Prune.ts"
import { toClaimed, toEntry } from "./Rows.ts"
import { tableNames, tables } from "./Tables.ts"
import * as Wakeup from "./Wakeup.ts"

/** A row of the stats or backlog query (the backlog has no delivered count); a route may come in several rows. */
interface CountRow {
  readonly route: string
  readonly pending: number
  readonly leased: number
  readonly delivered?: number
  readonly dead: number
  readonly oldest_pending_at: Date | null
}

const statsOfRows = (rows: ReadonlyArray<CountRow>): OutboxStats =>
  statsOf(
    rows.map((row) => ({
      route: row.route,
      pending: row.pending,
      leased: row.leased,
      delivered: row.delivered ?? 0,
      dead: row.dead,
      oldestPendingAt: row.oldest_pending_at === null ? null : DateTime.makeUnsafe(row.oldest_pending_at)
    }))
  )

/** The outbox's two services, on one SqlClient and one set of wake-ups. */
export interface PgOutbox {
  readonly outboxQueue: OutboxQueue["Service"]
  readonly outboxAdmin: OutboxAdmin["Service"]
}

export const make = (sql: SqlClient.SqlClient, schema: string, wakeup: Wakeup.Wakeup): PgOutbox => {
  const t = tables(sql, schema)
  const names = tableNames(schema)
  const outboxStatements = OutboxSql.statements(names)
  // After the outermost transaction commits (at once when there is none); never on rollback.
  const signalAfterCommit = sql.afterCommit(wakeup.signal(Wakeup.WORK))

  const claim = Effect.fnUntraced(function* (options: ClaimOptions) {
    if (options.limit <= 0 || options.routes?.length === 0) return []
    const rows = yield* OutboxSql.claim(sql, outboxStatements, options).pipe(Effect.mapError(toStoreError("claim")))
    return rows.map((row) => toClaimed(row, options.owner))
  })

  const complete = Effect.fnUntraced(function* (results: ReadonlyArray<Completion>) {
    // Malformed ids, and second results for one row, are refused without a round trip; so are
    // malformed tokens of retries and dead letters (the statement casts those to uuid; the
    // others are compared as text and simply match nothing).
    const seen = new Set<string>()
    const valid: Array<Completion> = []
    for (const result of results) {
      if (!seen.has(result.outboxId) && OutboxSql.isId(result.outboxId)) {
        if ((result._tag !== "Retry" && result._tag !== "Dead") || OutboxSql.isToken(result.token)) valid.push(result)
      }
      seen.add(result.outboxId)
    }
    const changed =
      valid.length === 0
        ? []
        : yield* OutboxSql.complete(sql, outboxStatements, valid).pipe(Effect.mapError(toStoreError("complete")))
    const applied = new Set(changed.map((row) => row.outbox_id))
    // A delivery on an unordered route makes no new work: no wake-up (nor NOTIFY) for it.
    if (changed.some((row) => row.frees)) yield* signalAfterCommit
    return {
      applied: results.filter((r) => applied.has(r.outboxId)).map((r) => r.outboxId),
      rejected: results.filter((r) => !applied.has(r.outboxId)).map((r) => r.outboxId)
    }
  })

  const replay = Effect.fn("PgEventStore.replay")(function* (filter: ReplayFilter) {
    const count = yield* OutboxSql.replay(sql, t, filter).pipe(Effect.mapError(toStoreError("replay")))
    if (count > 0) yield* signalAfterCommit
    return count
  })

  const purgeDead = Effect.fn("PgEventStore.purgeDead")(function* (filter: PurgeFilter) {
    return yield* OutboxSql.purgeDead(sql, t, filter).pipe(Effect.mapError(toStoreError("purgeDead")))
  })

  const prune = Effect.fn("PgEventStore.prune")(function* (policy: RetentionPolicy) {
    return yield* Prune.prune(sql, t, schema, policy)
  })

  const listOutbox = Effect.fn("PgEventStore.listOutbox")(function* (filter: OutboxFilter) {
    const rows = yield* OutboxSql.list(sql, t, filter).pipe(Effect.mapError(toStoreError("listOutbox")))
    return rows.map(toEntry)
  })

  const pauseRoute = Effect.fn("PgEventStore.pauseRoute")(function* (route: string, reason?: string) {
    const rows = yield* sql<{ route: string }>`
      INSERT INTO ${t.routePauses} (route, reason) VALUES (${route}, ${reason ?? null})
      ON CONFLICT (route) DO NOTHING RETURNING route`.pipe(Effect.mapError(toStoreError("pauseRoute")))
    return rows.length > 0
  })

  const resumeRoute = Effect.fn("PgEventStore.resumeRoute")(function* (route: string) {
    const rows = yield* sql<{
      route: string
    }>`DELETE FROM ${t.routePauses} WHERE route = ${route} RETURNING route`.pipe(
      Effect.mapError(toStoreError("resumeRoute"))
    )
    if (rows.length > 0) yield* signalAfterCommit
    return rows.length > 0
  })

  const pausedRoutes = sql<{ route: string; paused_at: Date; reason: string | null }>`
    SELECT route, paused_at, reason FROM ${t.routePauses} ORDER BY route`.pipe(
    Effect.map((rows) =>
      rows.map((row) => ({ route: row.route, paused_at: DateTime.makeUnsafe(row.paused_at), reason: row.reason }))
    ),
    Effect.mapError(toStoreError("pausedRoutes")),
    Effect.withSpan("PgEventStore.pausedRoutes")
  )

  const stats = Effect.gen(function* () {
    const rows = yield* OutboxSql.stats(sql, t).pipe(Effect.mapError(toStoreError("stats")))
    return statsOfRows(rows)
  }).pipe(Effect.withSpan("PgEventStore.stats"))

  const backlog = Effect.gen(function* () {
    const rows = yield* OutboxSql.backlog(sql, names).pipe(Effect.mapError(toStoreError("backlog")))
    return backlogOf(statsOfRows(rows))
  }).pipe(Effect.withSpan("PgEventStore.backlog"))

  return {
    outboxQueue: OutboxQueue.of({ claim, complete, waitForWork: (maxWait) => wakeup.wait(maxWait) }),
    outboxAdmin: OutboxAdmin.of({
      replay,
      purgeDead,
      prune,
      listOutbox,
      stats,
      backlog,
      pauseRoute,
      resumeRoute,
      pausedRoutes
    })
  }
}
