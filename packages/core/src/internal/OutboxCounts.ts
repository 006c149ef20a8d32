/**
 * The memory store's `stats`: every outbox entry counted by state, in total and per route.
 */
import { DateTime } from "effect"
import * as Outbox from "../Outbox.ts"
import type { OutboxStats, RouteStats } from "../OutboxAdmin.ts"

type Counts = { -readonly [K in keyof RouteStats]: RouteStats[K] }

const empty = (): Counts => ({ pending: 0, leased: 0, delivered: 0, dead: 0, oldestPendingAt: null })

/** Counts `entries` as they stand at `at` (a lease that has expired by then is not counted as leased). */
export const countOutbox = (entries: Iterable<Outbox.OutboxEntry>, at: DateTime.Utc): OutboxStats => {
  const total = empty()
  const byRoute: Record<string, Counts> = {}
  for (const entry of entries) {
    const route = byRoute[entry.route] ?? empty()
    byRoute[entry.route] = route
    for (const s of [total, route]) {
      if (entry.status === "pending") {
        s.pending++
        if (Outbox.isLeased(entry, at)) s.leased++
        if (s.oldestPendingAt === null || DateTime.isLessThan(entry.created_at, s.oldestPendingAt)) {
          s.oldestPendingAt = entry.created_at
        }
      } else if (entry.status === "delivered") s.delivered++
      else s.dead++
    }
  }
  return { ...total, byRoute: byRoute }
}
