/**
 * The OutboxAdmin port: what operators (the runner's `dlq` and `status` commands, its admin API and
 * metrics) need from the store's outbox: read it, count it, and repair dead letters. Relays use the
 * OutboxQueue port instead; both are views of the same rows.
 *
 * Contract (every adapter runs `OutboxAdminContract` in `@sluice/core/testing`):
 * - `replay` moves dead rows back to pending with attempts reset, and wakes relays.
 * - `purgeDead` deletes dead rows only; their events and raw payloads stay.
 * - `prune` deletes the delivered and dead rows a RetentionPolicy (Retention.ts) lets go, in
 *   batches of their own transactions; never a pending or leased row, never an event.
 * - `listOutbox` pages rows in id order, filtered; `stats` counts every row by state and route;
 *   `backlog` counts as `stats` does without the delivered rows.
 * - `pauseRoute` stops every relay (of every process: the pause is stored) from claiming the route's
 *   rows until `resumeRoute`; rows already leased finish their attempt. Pausing touches no row, and
 *   rows keep arriving while paused. `resumeRoute` wakes relays.
 */
import { Context, DateTime, type Effect } from "effect"
import type { StoreError } from "./EventStore.ts"
import type { OutboxEntry, OutboxId, OutboxStatus } from "./Outbox.ts"
import type { PruneReport, RetentionPolicy, RetentionPolicyError } from "./Retention.ts"

export interface OutboxFilter {
  readonly status?: OutboxStatus
  readonly route?: string
  readonly outboxIds?: ReadonlyArray<OutboxId>
  /** Page after this id (rows come in id order). */
  readonly after?: OutboxId
  /** @default 100 */
  readonly limit?: number
}

export interface ReplayFilter {
  readonly outboxIds?: ReadonlyArray<OutboxId>
  readonly route?: string
  readonly eventType?: string
}

/** Which dead letters `purgeDead` deletes: all, or one route's. */
export interface PurgeFilter {
  readonly route?: string
}

/** The undelivered rows of a route (or of all routes). */
export interface RouteBacklog {
  readonly pending: number
  /** Pending rows under an unexpired lease (a relay is publishing them). */
  readonly leased: number
  readonly dead: number
  readonly oldestPendingAt: DateTime.Utc | null
}

export interface OutboxBacklog extends RouteBacklog {
  readonly byRoute: Readonly<Record<string, RouteBacklog>>
}

export interface RouteStats extends RouteBacklog {
  readonly delivered: number
}

export interface OutboxStats extends RouteStats {
  readonly byRoute: Readonly<Record<string, RouteStats>>
}

/** Some of a route's rows, counted by state: a store's rows of counts, or one outbox entry. */
export interface RouteCount extends RouteStats {
  readonly route: string
}

type Counts = { -readonly [K in keyof RouteStats]: RouteStats[K] }

const noCounts = (): Counts => ({ pending: 0, leased: 0, delivered: 0, dead: 0, oldestPendingAt: null })

/** The stats of `counts` (a route may come in several): every store's one summing, in total and per route. */
export const statsOf = (counts: Iterable<RouteCount>): OutboxStats => {
  const total = noCounts()
  const byRoute: Record<string, Counts> = {}
  for (const count of counts) {
    byRoute[count.route] ??= noCounts()
    for (const sum of [total, byRoute[count.route]!]) {
      sum.pending += count.pending
      sum.leased += count.leased
      sum.delivered += count.delivered
      sum.dead += count.dead
      const oldest = count.oldestPendingAt
      if (oldest !== null && (sum.oldestPendingAt === null || DateTime.isLessThan(oldest, sum.oldestPendingAt)))
        sum.oldestPendingAt = oldest
    }
  }
  return { ...total, byRoute }
}

const withoutDelivered = ({ delivered: _, ...backlog }: RouteStats): RouteBacklog => backlog

/** The backlog part of `stats`: no delivered counts, and only the routes with pending or dead rows. */
export const backlogOf = ({ byRoute, ...total }: OutboxStats): OutboxBacklog => ({
  ...withoutDelivered(total),
  byRoute: Object.fromEntries(
    Object.entries(byRoute)
      .filter(([, s]) => s.pending + s.dead > 0)
      .map(([route, s]) => [route, withoutDelivered(s)])
  )
})

/** A route whose rows no relay claims until it is resumed. */
export interface PausedRoute {
  readonly route: string
  readonly paused_at: DateTime.Utc
  /** What the operator said, if anything. */
  readonly reason: string | null
}

export class OutboxAdmin extends Context.Service<
  OutboxAdmin,
  {
    readonly replay: (filter: ReplayFilter) => Effect.Effect<number, StoreError>
    /**
     * Deletes dead-lettered outbox rows for good and returns how many. Their events and raw payloads
     * stay (the event log is immutable), so appending the same event again is still a duplicate.
     */
    readonly purgeDead: (filter: PurgeFilter) => Effect.Effect<number, StoreError>
    /**
     * Deletes the settled rows `policy` lets go (delivered or dead longer than their route's age)
     * and reports how many, per route; on a dry run only counts them. Deletes in batches of
     * `batchSize` rows, each its own transaction (short row locks, a little WAL at a time), so it
     * runs beside relays; then a database store vacuums the outbox (see `RetentionPolicy.vacuum`).
     * Pending rows, leased or not, are never deleted, nor are events: appending a pruned row's
     * event again is still a duplicate. Fails with RetentionPolicyError, before deleting anything,
     * on a negative or infinite age or a batch size out of range.
     */
    readonly prune: (policy: RetentionPolicy) => Effect.Effect<PruneReport, StoreError | RetentionPolicyError>
    readonly listOutbox: (filter: OutboxFilter) => Effect.Effect<ReadonlyArray<OutboxEntry>, StoreError>
    /**
     * Every outbox row counted by state, per route. Delivered rows are kept until `prune` deletes
     * them, so a database store reads the whole outbox: for an operator's look, not for polling.
     */
    readonly stats: Effect.Effect<OutboxStats, StoreError>
    /**
     * `stats` without the delivered count, read from the pending and dead rows only: its cost follows
     * the backlog, not the outbox's history. For metrics scraped every few seconds. `byRoute` holds
     * the routes that have pending or dead rows.
     */
    readonly backlog: Effect.Effect<OutboxBacklog, StoreError>
    /** Pauses a route; false when it was already paused (its first pause and reason stay). */
    readonly pauseRoute: (route: string, reason?: string) => Effect.Effect<boolean, StoreError>
    /** Resumes a paused route and wakes relays; false when it was not paused. */
    readonly resumeRoute: (route: string) => Effect.Effect<boolean, StoreError>
    /** The paused routes, by name. */
    readonly pausedRoutes: Effect.Effect<ReadonlyArray<PausedRoute>, StoreError>
  }
>()("sluice/OutboxAdmin") {}
