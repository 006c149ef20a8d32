/**
 * The in-memory EventStore, beside its port: the reference adapter of the store contracts (with its
 * outbox, internal/MemoryOutbox.ts, and MemorySubscriptionStore.ts: one store, four services), the
 * runner's `memory` store driver, and what users unit-test pipelines with (no database; time from
 * the Clock, so TestClock drives leases and retries). Nothing survives the process.
 *
 * Its parts, in internal/: what it holds (MemoryContents.ts: raw payloads, events, the log, the
 * streams), its one lock and transactions with their undo log (MemoryLock.ts, MemoryTransaction.ts),
 * its appends (MemoryAppend.ts) and its outbox (MemoryOutbox.ts). Positions come from a counter, so a
 * rollback leaves a gap, as a database sequence does; stream revisions are the index in the stream's
 * list, which a rollback shrinks back: no gap.
 */
import { Clock, Context, DateTime, Effect, Layer, Option } from "effect"
import { EventStore, StoreError } from "./EventStore.ts"
import * as MemoryAppend from "./internal/MemoryAppend.ts"
import * as MemoryContents from "./internal/MemoryContents.ts"
import * as MemoryLock from "./internal/MemoryLock.ts"
import * as MemoryOutbox from "./internal/MemoryOutbox.ts"
import * as MemoryRawPayloads from "./internal/MemoryRawPayloads.ts"
import * as MemorySubscriptionStore from "./MemorySubscriptionStore.ts"
import { OutboxAdmin } from "./OutboxAdmin.ts"
import { OutboxQueue } from "./OutboxQueue.ts"
import { RawPayloadStore } from "./RawPayloadStore.ts"
import { expectedRevisionOf, type ReadStreamOptions, readStreamProblem, type StreamName } from "./Stream.ts"
import { SubscriptionStore } from "./SubscriptionStore.ts"
import * as WorkSignal from "./WorkSignal.ts"

/** The services of one in-memory store, sharing its log, lock and transactions. */
export interface MemoryStores {
  readonly eventStore: EventStore["Service"]
  readonly outboxQueue: OutboxQueue["Service"]
  readonly outboxAdmin: OutboxAdmin["Service"]
  readonly subscriptionStore: SubscriptionStore["Service"]
  readonly rawPayloadStore: RawPayloadStore["Service"]
  /**
   * Stops the timer a relay's last woken `waitForWork` left (WorkSignal), which would otherwise run
   * out its `maxWait`. `layerMemory` calls it when its scope closes.
   */
  readonly close: Effect.Effect<void>
}

/** The RawPayloadStore of `contents` (its retention keeps the raw payloads of events still pending delivery). */
const rawPayloadStore = (
  contents: MemoryContents.MemoryContents,
  outbox: MemoryOutbox.MemoryOutbox,
  lock: MemoryLock.MemoryLock,
  now: Effect.Effect<DateTime.Utc>
) =>
  MemoryRawPayloads.make({
    raws: contents.raws,
    guarded: lock.guarded,
    now,
    pendingRaws: () => {
      const out = new Set<string>()
      for (const id of outbox.pendingEvents()) {
        const raw = contents.events.get(id)?.raw_id
        if (raw !== undefined && raw !== null) out.add(raw)
      }
      return out
    }
  })

/** The EventStore over `contents`: appends and reads under the lock; lookups by id need none. */
const eventStoreOf = (
  contents: MemoryContents.MemoryContents,
  appends: MemoryAppend.MemoryAppend,
  lock: MemoryLock.MemoryLock
): EventStore["Service"] => {
  const { guarded, transaction } = lock
  const readStream = (stream: StreamName, options: ReadStreamOptions = {}) =>
    Effect.gen(function* () {
      const problem = readStreamProblem(stream, options)
      if (problem !== undefined)
        return yield* new StoreError({ operation: "readStream", reason: problem, retryable: false })
      return contents.streams.read(stream, options ?? {})
    })
  return EventStore.of({
    append: (batch) => guarded(appends.append(batch)),
    appendAll: (batches) => transaction(Effect.forEach(batches, (batch) => appends.append(batch))),
    appendToStream: (stream, batch, options) =>
      guarded(appends.appendToStream(stream, batch, expectedRevisionOf(options))),
    // Under the lock, as the claims: what a transaction wrote stays invisible until it commits.
    readStream: (stream, options) => guarded(readStream(stream, options)),
    transaction,
    getEvent: (id) => Effect.sync(() => Option.fromNullishOr(contents.events.get(id))),
    readEvents: (after, limit) =>
      Effect.sync(() => {
        const start = contents.log.findIndex((stored) => stored.position > after)
        return start === -1 ? [] : contents.log.slice(start, start + limit)
      }),
    getRaw: (id) => Effect.sync(() => Option.fromNullishOr(contents.raws.get(id)))
  })
}

/** Builds a fresh, empty in-memory store: its EventStore, OutboxQueue, OutboxAdmin and SubscriptionStore. */
export const makeStores: Effect.Effect<MemoryStores> = Effect.sync(() => {
  const contents = MemoryContents.make()
  // Wakes subscriptions when appended events commit.
  const committed = WorkSignal.makeBroadcast()
  const now = Effect.map(Clock.currentTimeMillis, (ms) => DateTime.makeUnsafe(ms))
  const lock = MemoryLock.make({
    logSize: () => contents.log.length,
    // Committed: wake waiters if it wrote anything (a kept wake-up costs a relay one claim).
    committed: (wrote, appended) => {
      if (wrote) outbox.notify()
      if (appended) committed.signal()
    }
  })
  const outbox = MemoryOutbox.make({ eventOf: (id) => contents.events.get(id)?.event, guarded: lock.guarded, now })
  const appends = MemoryAppend.make({ contents, outbox, committed: committed.signal, now })
  return {
    eventStore: eventStoreOf(contents, appends, lock),
    outboxQueue: outbox.queue,
    outboxAdmin: outbox.admin,
    subscriptionStore: MemorySubscriptionStore.make({
      log: contents.log,
      guarded: lock.guarded,
      now,
      listen: committed.listen
    }),
    rawPayloadStore: rawPayloadStore(contents, outbox, lock, now),
    close: outbox.close
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
  Layer.effectContext(Effect.acquireRelease(makeStores, (stores) => stores.close).pipe(Effect.map(toContext)))
