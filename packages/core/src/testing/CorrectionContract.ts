/**
 * The EventStore contract's corrections cases (Correction.ts): an id appended again with other
 * content becomes a new event that supersedes the key's latest version; the same content stays a
 * duplicate; content older than the latest version's raw payload is outdated.
 */
import { DateTime, Effect, Option } from "effect"
import type { Event, EventId, TraceId } from "../Event.ts"
import { type AppendBatch, EventStore } from "../EventStore.ts"
import { streamOf } from "../Stream.ts"
import { type ContractCase, claimAll } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

/** `batch` with its raw payload received at `minute` past 2026-01-02 03:00 UTC. */
const receivedAt = (batch: AppendBatch, minute: number): AppendBatch => ({
  ...batch,
  raw: { ...batch.raw!, received_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, minute)) }
})

/** The same fact (id, entity, time) with another payload. */
const restated = (event: Event, payload: Event["payload"]): Event => ({ ...event, payload })

const appendOne = (event: Event, minute = 0) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    return yield* store.append(receivedAt(yield* makeBatch([event]), minute))
  })

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "corrections: an id appended again with other content is a new event on its stream that supersedes it, delivered through the outbox",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const original = makeEvent({ key: "GOOG@2020-01-02", payload: { close: 1367.37 } })
        yield* appendOne(original)
        const split = restated(original, { close: 68.37 })
        const result = yield* appendOne(split, 1)
        yield* check.equal(
          [result.appended, result.duplicates, result.outdated],
          [[], [], []],
          "neither new nor skipped"
        )
        yield* check.equal(result.corrected.length, 1, "one correction")
        const correction = result.corrected[0]!
        yield* check.equal([correction.of, correction.supersedes], [original.event_id, original.event_id], "supersedes")
        yield* check.that(correction.eventId !== original.event_id, "a new id: an id never means two payloads")
        yield* check.that(
          /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(correction.eventId),
          `a UUIDv7, as events without a natural key get: ${correction.eventId}`
        )
        yield* check.equal(result.outboxRows, 1, "its outbox row")
        const log = yield* store.readEvents(0, 10)
        yield* check.equal(
          log.map((s) => s.event),
          [original, { ...split, event_id: correction.eventId, supersedes: original.event_id }],
          "the original stays; the correction follows it"
        )
        const stream = yield* store.readStream(streamOf(original))
        yield* check.equal(
          stream.map((s) => [s.revision, s.event.event_id]),
          [
            [0, original.event_id],
            [1, correction.eventId]
          ],
          "both on the entity's stream"
        )
        const got = yield* store.getEvent(correction.eventId)
        yield* check.equal(
          Option.map(got, (s) => s.event.supersedes),
          Option.some(original.event_id),
          "getEvent"
        )
        const claimed = yield* claimAll()
        yield* check.equal(
          claimed.map((c) => [c.entry.event_id, c.event.supersedes ?? null]),
          [
            [original.event_id, null],
            [correction.eventId, original.event_id]
          ],
          "delivered like any event, saying what it supersedes"
        )
      })
  },
  {
    name: "corrections: compared with the key's latest version: the same again is a duplicate, the original again a correction back",
    run: () =>
      Effect.gen(function* () {
        const original = makeEvent({ payload: { close: 1367.37 } })
        const split = restated(original, { close: 68.37 })
        yield* appendOne(original)
        const first = (yield* appendOne(split)).corrected[0]!
        const again = yield* appendOne(split)
        yield* check.equal([again.duplicates, again.corrected], [[original.event_id], []], "the restated content again")
        const back = yield* appendOne(original)
        yield* check.equal(
          back.corrected.map((c) => [c.of, c.supersedes]),
          [[original.event_id, first.eventId]],
          "the original content again supersedes the correction, not silently dropped"
        )
        const third = yield* appendOne(original)
        yield* check.equal([third.duplicates, third.corrected], [[original.event_id], []], "and is then a duplicate")
      })
  },
  {
    name: "corrections: content is compared by value: another trace id or key order is a duplicate",
    run: () =>
      Effect.gen(function* () {
        const original = makeEvent({ payload: { open: 1, close: 2, nested: { a: [1, 2], b: null } } })
        yield* appendOne(original)
        const same = {
          ...original,
          trace_id: "0af7651916cd43dd8448eb211c80319c" as TraceId,
          payload: { nested: { b: null, a: [1, 2] }, close: 2, open: 1 }
        }
        const result = yield* appendOne(same)
        yield* check.equal([result.duplicates, result.corrected], [[original.event_id], []], "a duplicate")
        const moved = yield* appendOne({ ...original, occurred_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 3)) })
        yield* check.equal(moved.corrected.length, 1, "another occurrence time is other content")
      })
  },
  {
    name: "corrections: content from a raw payload older than the latest version's is outdated and not stored",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const original = makeEvent({ payload: { v: 1 } })
        yield* appendOne(original, 10)
        const newer = (yield* appendOne(restated(original, { v: 3 }), 30)).corrected[0]!
        const older = yield* appendOne(restated(original, { v: 2 }), 20)
        yield* check.equal(
          [older.appended, older.duplicates, older.corrected, older.outdated, older.outboxRows],
          [[], [], [], [original.event_id], 0],
          "outdated"
        )
        const sameTime = yield* appendOne(restated(original, { v: 4 }), 30)
        yield* check.equal(
          sameTime.corrected.map((c) => c.supersedes),
          [newer.eventId],
          "received at the same time: a correction"
        )
        const withoutRaw = yield* store.append({ raw: null, events: [restated(original, { v: 5 })], outbox: [] })
        yield* check.equal(withoutRaw.corrected.length, 1, "an append without a raw payload is never outdated")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 4, "four versions")
      })
  },
  {
    name: "corrections: a batch holding one id twice with different content is refused whole, naming the event",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const event = makeEvent()
        const batch = yield* makeBatch([makeEvent(), event, restated(event, { other: true })])
        const error = yield* store.append(batch).pipe(Effect.flip)
        yield* check.equal(error._tag, "StoreError", "StoreError")
        yield* check.that(
          error._tag === "StoreError" && !error.retryable && error.reason.includes(event.event_id),
          `not retryable, names the event: ${error.message}`
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "nothing stored")
      })
  },
  {
    name: "corrections: a correction rolled back leaves the key's latest version as it was",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const original = makeEvent({ payload: { v: 1 } })
        yield* appendOne(original)
        yield* store
          .transaction(Effect.andThen(appendOne(restated(original, { v: 2 })), Effect.fail("rolled back")))
          .pipe(Effect.ignore)
        const result = yield* appendOne(restated(original, { v: 2 }))
        yield* check.equal(
          result.corrected.map((c) => c.supersedes),
          [original.event_id],
          "corrects the original, not the rolled-back version"
        )
        yield* check.equal(
          (yield* appendOne(original)).corrected.length,
          1,
          "and the original is then a correction back"
        )
      })
  },
  {
    name: "corrections: appendToStream stores a correction at the stream's next revision",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const original = makeEvent({ payload: { v: 1 } })
        const stream = streamOf(original)
        yield* store.appendToStream(stream, yield* makeBatch([original]), { expectedRevision: "no_stream" })
        const result = yield* store.appendToStream(stream, yield* makeBatch([restated(original, { v: 2 })]), {
          expectedRevision: 0
        })
        yield* check.equal(
          [result.corrected.length, result.nextExpectedRevision, result.outboxRows],
          [1, 1, 1],
          "a correction at revision 1"
        )
        const again = yield* store.appendToStream(stream, yield* makeBatch([restated(original, { v: 2 })]), {
          expectedRevision: 1
        })
        yield* check.equal([again.duplicates, again.nextExpectedRevision], [[original.event_id as EventId], 1], "dup")
      })
  }
]
