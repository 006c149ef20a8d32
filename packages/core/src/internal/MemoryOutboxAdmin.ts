/**
 * The memory outbox's OutboxAdmin: replay and purge of dead rows, retention, listing, counts and
 * paused routes, each under the store's lock.
 */
import { Effect, Result } from "effect"
import * as Outbox from "../Outbox.ts"
import {
  backlogOf,
  OutboxAdmin,
  type OutboxFilter,
  type PausedRoute,
  type PurgeFilter,
  type ReplayFilter
} from "../OutboxAdmin.ts"
import * as Retention from "../Retention.ts"
import type { Rows } from "./MemoryOutbox.ts"
import { CurrentTransaction, write } from "./MemoryTransaction.ts"
import { countOutbox } from "./OutboxCounts.ts"

export const make = (rows: Rows): OutboxAdmin["Service"] => {
  const { outbox, paused, eventOf, guarded, now, setEntry, notify } = rows

  const matchesFilter = (entry: Outbox.OutboxEntry, filter: ReplayFilter) =>
    (filter.outboxIds === undefined || filter.outboxIds.includes(entry.outbox_id)) &&
    (filter.route === undefined || filter.route === entry.route) &&
    (filter.eventType === undefined || eventOf(entry.event_id)?.event_type === filter.eventType)

  const replayUnguarded = (filter: ReplayFilter) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      let count = 0
      for (const entry of outbox.values()) {
        if (entry.status !== "dead" || !matchesFilter(entry, filter)) continue
        const step = Outbox.replay(entry, at)
        if (Result.isSuccess(step)) {
          setEntry(undoLog, step.success)
          count++
        }
      }
      if (count > 0 && undoLog === undefined) notify()
      return count
    })

  const purgeDeadUnguarded = (filter: PurgeFilter) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      let count = 0
      for (const [id, entry] of [...outbox.entries()]) {
        if (entry.status !== "dead" || (filter.route !== undefined && entry.route !== filter.route)) continue
        write(
          undoLog,
          () => void outbox.delete(id),
          () => void outbox.set(id, entry)
        )
        count++
      }
      return count
    })

  // One batch: up to `limit` expiring rows after `after` (id order), deleted under the lock.
  const pruneBatch = (policy: Retention.RetentionPolicy, after: number, limit: number) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      const gone: Array<[number, Outbox.OutboxEntry]> = []
      for (const [id, entry] of [...outbox.entries()].sort(([a], [b]) => a - b)) {
        if (gone.length >= limit) break
        if (id <= after || !Retention.expires(policy, entry, at)) continue
        gone.push([id, entry])
        if (policy.dryRun !== true) {
          write(
            undoLog,
            () => void outbox.delete(id),
            () => void outbox.set(id, entry)
          )
        }
      }
      return gone
    })

  const prune = (policy: Retention.RetentionPolicy) =>
    Effect.gen(function* () {
      const problem = Retention.checkPolicy(policy)
      if (problem !== undefined) return yield* problem
      const limit = policy.batchSize ?? Retention.defaultBatchSize
      const counts = { delivered: 0, dead: 0, byRoute: {} as Record<string, Retention.PruneCounts> }
      let after = 0
      let batches = 0
      for (;;) {
        // Each batch takes the lock on its own: other operations run between batches.
        const gone = yield* guarded(pruneBatch(policy, after, limit))
        for (const [, entry] of gone) Retention.tally(counts, entry.route, entry.status as "delivered" | "dead")
        if (gone.length > 0 && policy.dryRun !== true) batches++
        if (gone.length < limit) break
        after = gone.at(-1)![0]
      }
      return Retention.makeReport(counts, policy.dryRun === true, batches)
    })

  const listOutbox = (filter: OutboxFilter) =>
    Effect.sync(() => {
      const after = filter.after === undefined ? 0 : Number(filter.after)
      const out: Array<Outbox.OutboxEntry> = []
      for (const [id, entry] of [...outbox.entries()].sort(([a], [b]) => a - b)) {
        if (id <= after) continue
        if (filter.status !== undefined && entry.status !== filter.status) continue
        if (filter.route !== undefined && entry.route !== filter.route) continue
        if (filter.outboxIds !== undefined && !filter.outboxIds.includes(entry.outbox_id)) continue
        out.push(entry)
        if (out.length >= (filter.limit ?? 100)) break
      }
      return out as ReadonlyArray<Outbox.OutboxEntry>
    })

  const stats = Effect.map(now, (at) => countOutbox(outbox.values(), at))

  // Computed from stats: the memory store has no history to skip.
  const backlog = Effect.map(stats, backlogOf)

  const pauseRoute = (route: string, reason?: string) =>
    guarded(
      Effect.gen(function* () {
        if (paused.has(route)) return false
        const undoLog = yield* CurrentTransaction
        const entry: PausedRoute = { route, paused_at: yield* now, reason: reason ?? null }
        write(
          undoLog,
          () => paused.set(route, entry),
          () => paused.delete(route)
        )
        return true
      })
    )

  const resumeRoute = (route: string) =>
    guarded(
      Effect.gen(function* () {
        const entry = paused.get(route)
        if (entry === undefined) return false
        const undoLog = yield* CurrentTransaction
        write(
          undoLog,
          () => paused.delete(route),
          () => paused.set(route, entry)
        )
        // In a transaction, its commit wakes relays (MemoryEventStore.ts).
        if (undoLog === undefined) notify()
        return true
      })
    )

  const pausedRoutes = Effect.sync(() => [...paused.values()].sort((a, b) => a.route.localeCompare(b.route)))

  return OutboxAdmin.of({
    replay: (filter) => guarded(replayUnguarded(filter)),
    purgeDead: (filter) => guarded(purgeDeadUnguarded(filter)),
    prune,
    listOutbox,
    stats,
    backlog,
    pauseRoute,
    resumeRoute,
    pausedRoutes
  })
}
