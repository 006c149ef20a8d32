/**
 * The in-memory EventStore, beside its port: the reference adapter of the store contracts (with its
 * outbox, internal/MemoryOutbox.ts, and MemorySubscriptionStore.ts: one store, four services), the
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
import { Clock, Context, DateTime, Effect, Layer, Option, Semaphore } from "effect"
import type { EventId, RawPayload } from "./Event.ts"
import {
  type AppendBatch,
  appendBatchProblem,
  EventStore,
  redeliveredResult,
  type StoredEvent,
  StoreError,
  streamOnceProblem
} from "./EventStore.ts"
import { nextEventId } from "./Ids.ts"
import * as MemoryCorrections from "./internal/MemoryCorrections.ts"
import * as MemoryOutbox from "./internal/MemoryOutbox.ts"
import * as MemoryRawPayloads from "./internal/MemoryRawPayloads.ts"
import * as MemoryStreams from "./internal/MemoryStreams.ts"
import { CurrentTransaction, type UndoLog, write } from "./internal/MemoryTransaction.ts"
import * as MemorySubscriptionStore from "./MemorySubscriptionStore.ts"
import { OutboxAdmin } from "./OutboxAdmin.ts"
import { OutboxQueue } from "./OutboxQueue.ts"
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

/** The services of one in-memory store, sharing its log, lock and transactions. */
export interface MemoryStores {
  readonly eventStore: EventStore["Service"]
  readonly outboxQueue: OutboxQueue["Service"]
  readonly outboxAdmin: OutboxAdmin["Service"]
  readonly subscriptionStore: SubscriptionStore["Service"]
  readonly rawPayloadStore: RawPayloadStore["Service"]
}

/** Builds a fresh, empty in-memory store: its EventStore, OutboxQueue, OutboxAdmin and SubscriptionStore. */
export const makeStores: Effect.Effect<MemoryStores> = Effect.sync(() => {
  const lock = Semaphore.makeUnsafe(1)
  const raws = new Map<string, RawPayload>()
  const events = new Map<EventId, StoredEvent>()
  const log: Array<StoredEvent> = []
  const streams = MemoryStreams.make()
  const corrections = MemoryCorrections.make(events, raws)
  let nextPosition = 1
  // Wakes subscriptions when appended events commit.
  const committed = WorkSignal.makeBroadcast()

  const now = Effect.map(Clock.currentTimeMillis, (ms) => DateTime.makeUnsafe(ms))

  const appendUnguarded = (batch: AppendBatch, operation = "append") =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const problem = appendBatchProblem(batch)
      if (problem !== undefined) return yield* new StoreError({ operation, reason: problem, retryable: false })
      const at = yield* now
      const raw = batch.raw
      if (batch.once === true && raw !== null && raws.has(raw.raw_id)) return redeliveredResult
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
      // A correction's outbox rows go to the id it was stored under; a duplicate's to none.
      const drafts = batch.outbox.flatMap((draft) => {
        const event_id = tally.storedId(draft.event_id)
        return event_id === undefined ? [] : [{ ...draft, event_id }]
      })
      const rows = outbox.add(undoLog, drafts, new Set(drafts.map((draft) => draft.event_id)), at)
      if (undoLog === undefined && rows > 0) outbox.notify()
      const result = tally.result(rows)
      if (undoLog === undefined && result.appended.length + result.corrected.length > 0) committed.signal()
      return result
    })

  const appendToStreamUnguarded = (stream: StreamName, batch: AppendBatch, expected: ExpectedRevision) =>
    Effect.gen(function* () {
      const problem =
        appendBatchProblem(batch) ??
        streamOnceProblem(batch) ??
        expectedRevisionProblem(expected) ??
        streamBatchProblem(stream, batch.events)
      if (problem !== undefined)
        return yield* new StoreError({ operation: "appendToStream", reason: problem, retryable: false })
      const actual = streams.revisionOf(stream)
      if (!meetsExpectedRevision(expected, actual))
        return yield* new WrongExpectedRevisionError({ stream, expected, actual })
      const result = yield* appendUnguarded(batch, "appendToStream")
      return { ...result, nextExpectedRevision: streams.revisionOf(stream) }
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

  const outbox = MemoryOutbox.make({ eventOf: (id) => events.get(id)?.event, guarded, now })

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
      if (undoLog.length > 0) outbox.notify()
      if (log.length !== logLength) committed.signal()
      return result
    })

  const eventStore = EventStore.of({
    append: (batch) => guarded(appendUnguarded(batch)),
    appendAll: (batches) => transaction(Effect.forEach(batches, (batch) => appendUnguarded(batch))),
    appendToStream: (stream, batch, options) =>
      guarded(appendToStreamUnguarded(stream, batch, options?.expectedRevision ?? "any")),
    // Under the lock, as the claims: what a transaction wrote stays invisible until it commits.
    readStream: (stream, options) => guarded(readStream(stream, options)),
    transaction,
    getEvent: (id) => Effect.sync(() => Option.fromNullishOr(events.get(id))),
    readEvents: (after, limit) =>
      Effect.sync(() => {
        const start = log.findIndex((stored) => stored.position > after)
        return start === -1 ? [] : log.slice(start, start + limit)
      }),
    getRaw: (id) => Effect.sync(() => Option.fromNullishOr(raws.get(id)))
  })
  const subscriptionStore = MemorySubscriptionStore.make({ log, guarded, now, listen: committed.listen })
  return {
    eventStore,
    outboxQueue: outbox.queue,
    outboxAdmin: outbox.admin,
    subscriptionStore,
    rawPayloadStore: MemoryRawPayloads.make({
      raws,
      guarded,
      now,
      pendingRaws: () => {
        const out = new Set<string>()
        for (const id of outbox.pendingEvents()) {
          const raw = events.get(id)?.raw_id
          if (raw !== undefined && raw !== null) out.add(raw)
        }
        return out
      }
    })
  }
})

/** Builds a fresh, empty in-memory EventStore (without its other services: see `makeStores`). */
export const make: Effect.Effect<EventStore["Service"]> = Effect.map(makeStores, (stores) => stores.eventStore)

/** The services of `stores` as a context: what `layerMemory` provides. */
export const toContext = (
  stores: MemoryStores
): Context.Context<EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore> =>
  Context.make(EventStore, stores.eventStore).pipe(
    Context.add(OutboxQueue, stores.outboxQueue),
    Context.add(OutboxAdmin, stores.outboxAdmin),
    Context.add(SubscriptionStore, stores.subscriptionStore),
    Context.add(RawPayloadStore, stores.rawPayloadStore)
  )

/**
 * A fresh in-memory store for each use of the layer: its EventStore, OutboxQueue, OutboxAdmin,
 * SubscriptionStore and RawPayloadStore, over one log.
 */
export const layerMemory: Layer.Layer<EventStore | OutboxQueue | OutboxAdmin | SubscriptionStore | RawPayloadStore> =
  Layer.effectContext(Effect.map(makeStores, toContext))
