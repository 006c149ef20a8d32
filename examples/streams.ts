/**
 * The core README's stream example: canonical events made by hand, appended to their stream with an
 * expected revision and outbox rows, read back as StoredEvents, and a subscription catching up over
 * the log once. `streams.test.ts` tests it.
 */
// #region streams
import { type Event, EventStore, Ids, makeRouterUnsafe, outboxDrafts, Subscription, streamName } from "@sluice/core"
import { DateTime, Effect, Schema } from "effect"

/** A canonical event made in code: every field is required (`supersedes` is for corrections only). */
export const deposited = (account: string, amount: number) =>
  Effect.gen(function* () {
    const event: Event = {
      event_id: yield* Ids.nextEventId, // a UUIDv7; Ids.deterministicEventId(source, key) for a natural key
      event_type: "account.deposited",
      entity_type: "account",
      entity_id: account,
      trace_id: yield* Ids.nextTraceId, // 32 hex digits (W3C Trace Context)
      schema_version: 1,
      occurred_at: yield* DateTime.now, // from the Clock
      payload: { amount }
    }
    return event
  })

const router = makeRouterUnsafe([{ name: "ledger", transport: "webhook", topic: "ledger", match: ["account.*"] }])

/** Deposits 100 then 50 on alice's stream, each append expecting the revision before it; reads it back. */
export const twoDeposits = Effect.gen(function* () {
  const store = yield* EventStore
  const alice = streamName("account", "alice")
  const first = yield* deposited("alice", 100)
  // The batch: the raw payload the events came from (none: made in code), the events, their outbox rows.
  const opened = yield* store.appendToStream(
    alice,
    { raw: null, events: [first], outbox: outboxDrafts(router, [first]) },
    { expectedRevision: "no_stream" } // or "any", "stream_exists", or the last revision read
  )
  const second = yield* deposited("alice", 50)
  yield* store.appendToStream(
    alice,
    { raw: null, events: [second], outbox: outboxDrafts(router, [second]) },
    { expectedRevision: opened.nextExpectedRevision } // 0: fails with WrongExpectedRevisionError if moved on
  )
  // Each StoredEvent is { position, revision, raw_id, recorded_at, event }: position in the whole log,
  // revision in the stream (0, 1, ...), raw_id null for events made in code, recorded_at by the store.
  const stored = yield* store.readStream(alice, { from: 0, direction: "forwards", limit: 100 })
  return stored.map(({ revision, raw_id, event }) => ({ revision, raw_id, payload: event.payload }))
})
// #endregion streams

// #region catch-up
const Deposit = Schema.Struct({ amount: Schema.Number })

/** Sums the deposits the subscriber "deposit-total" has not handled yet, reading the log once. */
export const depositTotal = Effect.gen(function* () {
  let total = 0
  const report = yield* Subscription.catchUp({
    name: "deposit-total", // the checkpoint's key: the next run starts after the last event handled
    batchSize: 1000, // events per batch (at most 10,000); the checkpoint is saved after each
    // LoggedEvents (StoredEvents with their log_position), in log order; never an empty batch
    handle: (events) =>
      Effect.forEach(events, ({ event }) =>
        event.event_type === "account.deposited"
          ? Effect.map(Schema.decodeUnknownEffect(Deposit)(event.payload), ({ amount }) => {
              total += amount
            })
          : Effect.void
      )
  })
  return { total, events: report.events, batches: report.batches } // report.position: the checkpoint left
})
// #endregion catch-up
