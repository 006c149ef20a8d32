/**
 * The memory store's `stats`: every outbox entry counted by state, in total and per route.
 */
import type { DateTime } from "effect"
import * as Outbox from "../Outbox.ts"
import { type OutboxStats, type RouteCount, statsOf } from "../OutboxAdmin.ts"

const countOf = (entry: Outbox.OutboxEntry, at: DateTime.Utc): RouteCount => {
  const pending = entry.status === "pending"
  return {
    route: entry.route,
    pending: pending ? 1 : 0,
    leased: pending && Outbox.isLeased(entry, at) ? 1 : 0,
    delivered: entry.status === "delivered" ? 1 : 0,
    dead: entry.status === "dead" ? 1 : 0,
    oldestPendingAt: pending ? entry.created_at : null
  }
}

/** Counts `entries` as they stand at `at` (a lease that has expired by then is not counted as leased). */
export const countOutbox = (entries: Iterable<Outbox.OutboxEntry>, at: DateTime.Utc): OutboxStats =>
  statsOf(Array.from(entries, (entry) => countOf(entry, at)))
