/**
 * The memory store's outbox: its rows, and the OutboxQueue and OutboxAdmin services over them. The
 * EventStore half (MemoryEventStore.ts) adds rows as it appends; both share its lock, its undo log
 * (MemoryTransaction.ts) and its clock, so a row and its event commit or roll back together.
 */
import { DateTime, Duration, Effect, Result } from "effect"
import type { Event, EventId } from "../Event.ts"
import type { OutboxDraft } from "../EventStore.ts"
import * as Outbox from "../Outbox.ts"
import {
  backlogOf,
  OutboxAdmin,
  type OutboxFilter,
  type PausedRoute,
  type PurgeFilter,
  type ReplayFilter
} from "../OutboxAdmin.ts"
import { type Claimed, type ClaimOptions, type Completion, OutboxQueue } from "../OutboxQueue.ts"
import * as Retention from "../Retention.ts"
import * as WorkSignal from "../WorkSignal.ts"
import { CurrentTransaction, type UndoLog, write } from "./MemoryTransaction.ts"
import { countOutbox } from "./OutboxCounts.ts"

/** What the memory EventStore shares with its outbox. */
export interface Shared {
  /** The stored event of an id (claims hand it out; a replay filters on its type). */
  readonly eventOf: (id: EventId) => Event | undefined
  /** Runs an operation under the store's lock, unless the caller's transaction holds it. */
  readonly guarded: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly now: Effect.Effect<DateTime.Utc>
}

export interface MemoryOutbox {
  /**
   * Creates the rows of `drafts` whose event this append stored (`fresh`), one per event and route,
   * recording their undo in `undoLog`; returns how many.
   */
  readonly add: (
    undoLog: UndoLog | undefined,
    drafts: ReadonlyArray<OutboxDraft>,
    fresh: ReadonlySet<EventId>,
    at: DateTime.Utc
  ) => number
  /** Wakes relays waiting for work (or keeps the wake-up for the next one). */
  readonly notify: () => void
  /** The events that have a pending outbox row (raw payload retention keeps their raw payloads). */
  readonly pendingEvents: () => ReadonlySet<EventId>
  readonly queue: OutboxQueue["Service"]
  readonly admin: OutboxAdmin["Service"]
}

const toId = (n: number) => String(n) as Outbox.OutboxId

export const make = (shared: Shared): MemoryOutbox => {
  const { eventOf, guarded, now } = shared
  const outbox = new Map<number, Outbox.OutboxEntry>()
  const outboxKeys = new Set<string>()
  const pending = new Set<number>()
  const paused = new Map<string, PausedRoute>()
  let nextOutboxId = 1
  let leaseCounter = 0
  const work = WorkSignal.make()
  const notify = work.signal

  const setEntry = (undoLog: UndoLog | undefined, next: Outbox.OutboxEntry) => {
    const id = Number(next.outbox_id)
    const previous = outbox.get(id)
    write(
      undoLog,
      () => {
        outbox.set(id, next)
        if (next.status === "pending") pending.add(id)
        else pending.delete(id)
      },
      () => {
        if (previous === undefined) {
          outbox.delete(id)
          pending.delete(id)
        } else {
          outbox.set(id, previous)
          if (previous.status === "pending") pending.add(id)
          else pending.delete(id)
        }
      }
    )
  }

  const add: MemoryOutbox["add"] = (undoLog, drafts, fresh, at) => {
    let rows = 0
    for (const draft of drafts) {
      const key = `${draft.event_id}\u0000${draft.route}`
      if (!fresh.has(draft.event_id) || outboxKeys.has(key)) continue
      const id = nextOutboxId++
      write(
        undoLog,
        () => void outboxKeys.add(key),
        () => void outboxKeys.delete(key)
      )
      setEntry(undoLog, {
        outbox_id: toId(id),
        event_id: draft.event_id,
        route: draft.route,
        topic: draft.topic,
        status: "pending",
        attempts: 0,
        next_attempt_at: at,
        lease: null,
        last_error: null,
        ordering_key: draft.ordering_key,
        replays: 0,
        created_at: at,
        delivered_at: null
      })
      rows++
    }
    return rows
  }

  const claimUnguarded = (options: ClaimOptions) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      const routes = options.routes === undefined ? undefined : new Set(options.routes)
      // Per-entity ordering: only the oldest pending row of each (route, key) may go out.
      const headOfKey = new Map<string, number>()
      const sortedPending = [...pending].sort((a, b) => a - b)
      for (const id of sortedPending) {
        const entry = outbox.get(id)!
        if (entry.ordering_key === null) continue
        const key = `${entry.route}\u0000${entry.ordering_key}`
        if (!headOfKey.has(key)) headOfKey.set(key, id)
      }
      const candidates = sortedPending
        .map((id) => outbox.get(id)!)
        .filter(
          (entry) =>
            (routes === undefined || routes.has(entry.route)) &&
            !paused.has(entry.route) &&
            Outbox.isClaimable(entry, at) &&
            (entry.ordering_key === null ||
              headOfKey.get(`${entry.route}\u0000${entry.ordering_key}`) === Number(entry.outbox_id))
        )
        .sort(
          (a, b) =>
            DateTime.toEpochMillis(a.next_attempt_at) - DateTime.toEpochMillis(b.next_attempt_at) ||
            Number(a.outbox_id) - Number(b.outbox_id)
        )
        .slice(0, Math.max(0, options.limit))
      const expires_at = DateTime.add(at, { milliseconds: Duration.toMillis(options.lease) })
      const claimed: Array<Claimed> = []
      // No yield from here on: a claim must be atomic with respect to other fibers' claims.
      for (const entry of candidates) {
        const lease = { owner: options.owner, token: `lease-${++leaseCounter}`, expires_at }
        const next = Result.getOrThrow(Outbox.claim(entry, lease, at))
        setEntry(undoLog, next)
        claimed.push({ entry: next, event: eventOf(next.event_id)! })
      }
      return claimed as ReadonlyArray<Claimed>
    })

  const completeUnguarded = (results: ReadonlyArray<Completion>) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      const applied: Array<Outbox.OutboxId> = []
      const rejected: Array<Outbox.OutboxId> = []
      let frees = false
      for (const result of results) {
        const entry = outbox.get(Number(result.outboxId))
        if (entry === undefined) {
          rejected.push(result.outboxId)
          continue
        }
        const step =
          result._tag === "Delivered"
            ? Outbox.deliver(entry, result.token, at)
            : result._tag === "Retry"
              ? Outbox.retry(entry, result.token, result.error, DateTime.add(at, { milliseconds: result.delayMs }), at)
              : result._tag === "Dead"
                ? Outbox.deadLetter(entry, result.token, result.error, at)
                : Outbox.release(entry, result.token, at)
        if (Result.isFailure(step)) {
          rejected.push(result.outboxId)
        } else {
          setEntry(undoLog, step.success)
          applied.push(result.outboxId)
          // Only these can make a row claimable; a delivery on an unordered route makes no work.
          frees ||= result._tag === "Release" || result._tag === "Retry" || entry.ordering_key !== null
        }
      }
      if (frees && undoLog === undefined) notify()
      return { applied, rejected }
    })

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

  const pendingEvents = () => new Set([...pending].map((id) => outbox.get(id)!.event_id))

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

  const queue = OutboxQueue.of({
    claim: (options) => guarded(claimUnguarded(options)),
    complete: (results) => guarded(completeUnguarded(results)),
    waitForWork: work.wait
  })
  const admin = OutboxAdmin.of({
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
  return { add, notify, pendingEvents, queue, admin }
}
