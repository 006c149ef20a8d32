/**
 * The in-memory EventStore, beside its port: the reference adapter of the EventStore contract, the
 * runner's `memory` store driver, and what users unit-test pipelines with (no database; time from
 * the Clock, so TestClock drives leases and retries). Nothing survives the process.
 *
 * Operations are serialised by one lock, and a transaction holds it for its whole duration: nothing
 * a transaction wrote is visible to other fibers before it commits (a relay cannot publish an event
 * that is then rolled back). Inside, every write records how to take itself back, and a failure (or
 * interruption) replays that undo log backwards; a nested transaction is a savepoint with a log of
 * its own. Positions come from a counter, so a rollback leaves a gap, as a database sequence does;
 * stream revisions are the index in the stream's list, which a rollback shrinks back: no gap.
 */
import { Clock, Context, DateTime, Duration, Effect, Layer, Option, Result, Semaphore } from "effect"
import type { EventId, RawPayload } from "./Event.ts"
import {
  type AppendBatch,
  appendBatchProblem,
  backlogOf,
  type Claimed,
  type ClaimOptions,
  type Completion,
  EventStore,
  type OutboxFilter,
  type PurgeFilter,
  type ReplayFilter,
  type StoredEvent,
  StoreError
} from "./EventStore.ts"
import { nextEventId } from "./Ids.ts"
import * as MemoryCorrections from "./internal/MemoryCorrections.ts"
import * as MemoryRawPayloads from "./internal/MemoryRawPayloads.ts"
import * as MemoryStreams from "./internal/MemoryStreams.ts"
import { CurrentTransaction, type UndoLog, write } from "./internal/MemoryTransaction.ts"
import { countOutbox } from "./internal/OutboxCounts.ts"
import * as MemorySubscriptionStore from "./MemorySubscriptionStore.ts"
import * as Outbox from "./Outbox.ts"
import { RawPayloadStore } from "./RawPayloadStore.ts"
import {
  type ExpectedRevision,
  expectedRevisionProblem,
  meetsExpectedRevision,
  type ReadStreamOptions,
  readStreamProblem,
  type StreamName,
  streamBatchProblem,
  WrongExpectedRevisionError
} from "./Stream.ts"
import { SubscriptionStore } from "./SubscriptionStore.ts"
import * as WorkSignal from "./WorkSignal.ts"

const toId = (n: number) => String(n) as Outbox.OutboxId

/** The parts of one in-memory store, sharing its log, lock and transactions. */
export interface MemoryStores {
  readonly eventStore: EventStore["Service"]
  readonly subscriptionStore: SubscriptionStore["Service"]
  readonly rawPayloadStore: RawPayloadStore["Service"]
}

/** Builds a fresh, empty in-memory store: its EventStore and its SubscriptionStore. */
export const makeStores: Effect.Effect<MemoryStores> = Effect.sync(() => {
  const lock = Semaphore.makeUnsafe(1)
  const raws = new Map<string, RawPayload>()
  const events = new Map<EventId, StoredEvent>()
  const log: Array<StoredEvent> = []
  const streams = MemoryStreams.make()
  const corrections = MemoryCorrections.make(events, raws)
  const outbox = new Map<number, Outbox.OutboxEntry>()
  const outboxKeys = new Set<string>()
  const pending = new Set<number>()
  let nextOutboxId = 1
  let nextPosition = 1
  let leaseCounter = 0
  const work = WorkSignal.make()
  // Wakes subscriptions when appended events commit.
  const committed = WorkSignal.makeBroadcast()

  const now = Effect.map(Clock.currentTimeMillis, (ms) => DateTime.makeUnsafe(ms))
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

  const appendUnguarded = (batch: AppendBatch, operation = "append") =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const problem = appendBatchProblem(batch)
      if (problem !== undefined) return yield* new StoreError({ operation, reason: problem, retryable: false })
      const at = yield* now
      const raw = batch.raw
      if (raw !== null && !raws.has(raw.raw_id)) {
        write(
          undoLog,
          () => void raws.set(raw.raw_id, raw),
          () => void raws.delete(raw.raw_id)
        )
      }
      const tally = corrections.tally(raw)
      for (const event of batch.events) {
        const outcome = tally.classify(event)
        if (outcome._tag === "Duplicate" || outcome._tag === "Outdated") continue
        const event_id = outcome._tag === "Fresh" ? event.event_id : yield* nextEventId
        const entry: StoredEvent = {
          position: nextPosition++,
          revision: streams.nextRevision(event),
          raw_id: raw?.raw_id ?? null,
          recorded_at: at,
          event: outcome._tag === "Fresh" ? event : { ...event, event_id, supersedes: outcome.supersedes }
        }
        write(
          undoLog,
          () => {
            events.set(event_id, entry)
            log.push(entry)
            streams.add(entry)
          },
          () => {
            events.delete(event_id)
            log.splice(log.indexOf(entry), 1)
            // Undone newest first: this is its stream's last event.
            streams.removeLast(entry)
          }
        )
        tally.stored(undoLog, event, entry)
      }
      let rows = 0
      for (const draft of batch.outbox) {
        const event_id = tally.storedId(draft.event_id)
        const key = `${event_id}\u0000${draft.route}`
        if (event_id === undefined || outboxKeys.has(key)) continue
        const id = nextOutboxId++
        write(
          undoLog,
          () => void outboxKeys.add(key),
          () => void outboxKeys.delete(key)
        )
        setEntry(undoLog, {
          outbox_id: toId(id),
          event_id,
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
      if (undoLog === undefined && rows > 0) notify()
      const result = tally.result(rows)
      if (undoLog === undefined && result.appended.length + result.corrected.length > 0) committed.signal()
      return result
    })

  const appendToStreamUnguarded = (stream: StreamName, batch: AppendBatch, expected: ExpectedRevision) =>
    Effect.gen(function* () {
      const problem =
        appendBatchProblem(batch) ?? expectedRevisionProblem(expected) ?? streamBatchProblem(stream, batch.events)
      if (problem !== undefined)
        return yield* new StoreError({ operation: "appendToStream", reason: problem, retryable: false })
      const actual = streams.revisionOf(stream)
      if (!meetsExpectedRevision(expected, actual))
        return yield* new WrongExpectedRevisionError({ stream, expected, actual })
      const result = yield* appendUnguarded(batch, "appendToStream")
      return { ...result, next_expected_revision: streams.revisionOf(stream) }
    })

  const readStream = (stream: StreamName, options: ReadStreamOptions = {}) =>
    Effect.gen(function* () {
      const problem = readStreamProblem(options)
      if (problem !== undefined)
        return yield* new StoreError({ operation: "readStream", reason: problem, retryable: false })
      return streams.read(stream, options)
    })

  /** Runs a store operation under the lock, unless the caller's transaction already holds it. */
  const guarded = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.gen(function* () {
      return (yield* CurrentTransaction) === undefined ? yield* lock.withPermits(1)(self) : yield* self
    })

  const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> =>
    Effect.gen(function* () {
      const parent = yield* CurrentTransaction
      const undoLog: UndoLog = []
      const body = self.pipe(
        Effect.provideService(CurrentTransaction, undoLog),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (exit._tag === "Failure") for (const undo of undoLog.reverse()) undo()
            else if (parent !== undefined) parent.push(...undoLog)
          })
        )
      )
      if (parent !== undefined) return yield* body
      let logLength = 0
      const result = yield* lock.withPermits(1)(
        Effect.suspend(() => {
          logLength = log.length
          return body
        })
      )
      // Committed: wake waiters if it wrote anything (a kept wake-up costs a relay one claim).
      if (undoLog.length > 0) notify()
      if (log.length !== logLength) committed.signal()
      return result
    })

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
        claimed.push({ entry: next, event: events.get(next.event_id)!.event })
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
        const entry = outbox.get(Number(result.outbox_id))
        if (entry === undefined) {
          rejected.push(result.outbox_id)
          continue
        }
        const step =
          result._tag === "Delivered"
            ? Outbox.deliver(entry, result.token, at)
            : result._tag === "Retry"
              ? Outbox.retry(entry, result.token, result.error, DateTime.add(at, { milliseconds: result.delay_ms }), at)
              : result._tag === "Dead"
                ? Outbox.deadLetter(entry, result.token, result.error, at)
                : Outbox.release(entry, result.token, at)
        if (Result.isFailure(step)) {
          rejected.push(result.outbox_id)
        } else {
          setEntry(undoLog, step.success)
          applied.push(result.outbox_id)
          // Only these can make a row claimable; a delivery on an unordered route makes no work.
          frees ||= result._tag === "Release" || result._tag === "Retry" || entry.ordering_key !== null
        }
      }
      if (frees && undoLog === undefined) notify()
      return { applied, rejected }
    })

  const matchesFilter = (entry: Outbox.OutboxEntry, filter: ReplayFilter) =>
    (filter.outbox_ids === undefined || filter.outbox_ids.includes(entry.outbox_id)) &&
    (filter.route === undefined || filter.route === entry.route) &&
    (filter.event_type === undefined || events.get(entry.event_id)?.event.event_type === filter.event_type)

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

  const listOutbox = (filter: OutboxFilter) =>
    Effect.sync(() => {
      const after = filter.after === undefined ? 0 : Number(filter.after)
      const out: Array<Outbox.OutboxEntry> = []
      for (const [id, entry] of [...outbox.entries()].sort(([a], [b]) => a - b)) {
        if (id <= after) continue
        if (filter.status !== undefined && entry.status !== filter.status) continue
        if (filter.route !== undefined && entry.route !== filter.route) continue
        if (filter.outbox_ids !== undefined && !filter.outbox_ids.includes(entry.outbox_id)) continue
        out.push(entry)
        if (out.length >= (filter.limit ?? 100)) break
      }
      return out as ReadonlyArray<Outbox.OutboxEntry>
    })

  const stats = Effect.map(now, (at) => countOutbox(outbox.values(), at))

  // Computed from stats: the memory store has no history to skip.
  const backlog = Effect.map(stats, backlogOf)

  const waitForWork = work.wait

  const eventStore = EventStore.of({
    append: (batch) => guarded(appendUnguarded(batch)),
    appendToStream: (stream, batch, options) =>
      guarded(appendToStreamUnguarded(stream, batch, options?.expectedRevision ?? "any")),
    // Under the lock, as the claims: what a transaction wrote stays invisible until it commits.
    readStream: (stream, options) => guarded(readStream(stream, options)),
    transaction,
    claim: (options) => guarded(claimUnguarded(options)),
    complete: (results) => guarded(completeUnguarded(results)),
    replay: (filter) => guarded(replayUnguarded(filter)),
    purgeDead: (filter) => guarded(purgeDeadUnguarded(filter)),
    listOutbox,
    getEvent: (id) => Effect.sync(() => Option.fromNullishOr(events.get(id))),
    readEvents: (after, limit) =>
      Effect.sync(() => {
        const start = log.findIndex((stored) => stored.position > after)
        return start === -1 ? [] : log.slice(start, start + limit)
      }),
    getRaw: (id) => Effect.sync(() => Option.fromNullishOr(raws.get(id))),
    stats,
    backlog,
    waitForWork
  })
  const subscriptionStore = MemorySubscriptionStore.make({ log, guarded, now, listen: committed.listen })
  return { eventStore, subscriptionStore, rawPayloadStore: MemoryRawPayloads.make({ raws, guarded, now }) }
})

/** Builds a fresh, empty in-memory EventStore (without its SubscriptionStore: see `makeStores`). */
export const make: Effect.Effect<EventStore["Service"]> = Effect.map(makeStores, (stores) => stores.eventStore)

/** A fresh in-memory store for each use of the layer: its EventStore and its SubscriptionStore. */
export const layerMemory: Layer.Layer<EventStore | SubscriptionStore | RawPayloadStore> = Layer.effectContext(
  Effect.map(makeStores, (stores) =>
    Context.make(EventStore, stores.eventStore).pipe(
      Context.add(SubscriptionStore, stores.subscriptionStore),
      Context.add(RawPayloadStore, stores.rawPayloadStore)
    )
  )
)
