/**
 * The streams part of the EventStore contract: revisions, expected revisions and stream reads, run
 * by every adapter beside EventStoreContract (`eventLogSuite` runs both). Cases are plain Effects;
 * each needs a fresh, empty store.
 */
import { Deferred, Duration, Effect, Fiber, Option } from "effect"
import type { Event } from "../Event.ts"
import { EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { type ExpectedRevision, type StreamName, streamName, WrongExpectedRevisionError } from "../Stream.ts"
import type { ContractCase } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"
import * as StreamInputContract from "./StreamInputContract.ts"

let streams = 0
// Distinguishes this process's streams from another's writing to the same database.
const run = Math.random().toString(36).slice(2)
const freshStream = (): StreamName => streamName("account", `acc-${run}-${++streams}`)

/** A valid event of `stream`. */
const eventOf = (stream: StreamName, overrides: Partial<Event> = {}): Event =>
  makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id, ...overrides })

const revisionsOf = (stream: StreamName) =>
  EventStore.use((store) => store.readStream(stream)).pipe(
    Effect.map((stored) => stored.map((s) => [s.revision, s.event.event_id] as const))
  )

const appendTo = (stream: StreamName, events: ReadonlyArray<Event>, expectedRevision: ExpectedRevision) =>
  Effect.flatMap(makeBatch(events), (batch) =>
    EventStore.use((store) => store.appendToStream(stream, batch, { expectedRevision }))
  )

/** Fails the case unless `self` fails with WrongExpectedRevisionError saying `expected` and `actual`. */
const wrongRevision = <A, E>(
  self: Effect.Effect<A, E, EventStore>,
  stream: StreamName,
  expected: ExpectedRevision,
  actual: number | "no_stream"
) =>
  Effect.gen(function* () {
    const error = yield* Effect.flip(self)
    yield* check.that(error instanceof WrongExpectedRevisionError, `WrongExpectedRevisionError, got ${String(error)}`)
    const wrong = error as WrongExpectedRevisionError
    yield* check.equal([wrong.stream, wrong.expected, wrong.actual], [stream, expected, actual], "error fields")
  })

/**
 * Appends a batch with a raw payload and an outbox row that `expected` refuses, then checks that none of it
 * is stored.
 */
const refusedWritesNothing = (stream: StreamName, expected: ExpectedRevision, actual: number | "no_stream") =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const admin = yield* OutboxAdmin
    const before = yield* revisionsOf(stream)
    const pendingBefore = (yield* admin.stats).pending
    const event = eventOf(stream)
    const batch = yield* makeBatch([event], ["a"])
    yield* wrongRevision(store.appendToStream(stream, batch, { expectedRevision: expected }), stream, expected, actual)
    yield* check.that(Option.isNone(yield* store.getEvent(event.event_id)), "no event")
    yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
    yield* check.equal((yield* admin.stats).pending, pendingBefore, "no outbox row")
    yield* check.equal(yield* revisionsOf(stream), before, "the stream is unchanged")
  })

export const cases: ReadonlyArray<ContractCase> = [
  ...StreamInputContract.cases,
  {
    name: "append gives each new event the next revision of its entity's stream; duplicates take none",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const [a, b] = [freshStream(), freshStream()]
        const [a0, b0, a1] = [eventOf(a), eventOf(b), eventOf(a)]
        yield* store.append(yield* makeBatch([a0, b0, a1]))
        const [a2, b1] = [eventOf(a), eventOf(b)]
        const second = yield* store.append(yield* makeBatch([a0, a2, b1, b0]))
        yield* check.equal(second.duplicates, [a0.event_id, b0.event_id], "duplicates")
        yield* check.equal(
          yield* revisionsOf(a),
          [
            [0, a0.event_id],
            [1, a1.event_id],
            [2, a2.event_id]
          ],
          "stream a"
        )
        yield* check.equal(
          yield* revisionsOf(b),
          [
            [0, b0.event_id],
            [1, b1.event_id]
          ],
          "stream b"
        )
        const log = yield* store.readEvents(0, 10)
        yield* check.equal(
          log.map((s) => [s.event.event_id, s.revision]),
          [a0, b0, a1, a2, b1].map((e, i) => [e.event_id, [0, 0, 1, 2, 1][i]]),
          "readEvents carries revisions"
        )
        const got = yield* store.getEvent(a2.event_id)
        yield* check.equal(
          Option.map(got, (s) => s.revision),
          Option.some(2),
          "getEvent carries the revision"
        )
      })
  },
  {
    name: "appendToStream with expectedRevision any appends to a new or an existing stream",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        const first = yield* appendTo(stream, [eventOf(stream), eventOf(stream)], "any")
        yield* check.equal([first.appended.length, first.nextExpectedRevision], [2, 1], "first append")
        const batch = yield* makeBatch([eventOf(stream)])
        const second = yield* store.appendToStream(stream, batch)
        yield* check.equal(second.nextExpectedRevision, 2, "the default is any")
        yield* check.equal(second.outboxRows, 1, "outbox rows as append makes them")
        yield* check.equal(
          (yield* revisionsOf(stream)).map(([r]) => r),
          [0, 1, 2],
          "revisions"
        )
      })
  },
  {
    name: "no_stream appends to a new stream; on an existing one it fails with the actual revision and writes nothing",
    run: () =>
      Effect.gen(function* () {
        const stream = freshStream()
        const first = yield* appendTo(stream, [eventOf(stream)], "no_stream")
        yield* check.equal(first.nextExpectedRevision, 0, "a new stream's first revision")
        yield* refusedWritesNothing(stream, "no_stream", 0)
      })
  },
  {
    name: "stream_exists fails on a missing stream, writing nothing, and appends to an existing one",
    run: () =>
      Effect.gen(function* () {
        const stream = freshStream()
        yield* refusedWritesNothing(stream, "stream_exists", "no_stream")
        yield* check.equal(yield* revisionsOf(stream), [], "still no stream")
        yield* appendTo(stream, [eventOf(stream)], "any")
        const result = yield* appendTo(stream, [eventOf(stream)], "stream_exists")
        yield* check.equal(result.nextExpectedRevision, 1, "appended")
      })
  },
  {
    name: "an exact revision appends when it is the stream's; a stale, future or missing one fails and writes nothing",
    run: () =>
      Effect.gen(function* () {
        const stream = freshStream()
        yield* refusedWritesNothing(stream, 0, "no_stream")
        yield* appendTo(stream, [eventOf(stream), eventOf(stream)], "no_stream")
        const result = yield* appendTo(stream, [eventOf(stream)], 1)
        yield* check.equal([result.appended.length, result.nextExpectedRevision], [1, 2], "exact match")
        yield* refusedWritesNothing(stream, 1, 2)
        yield* refusedWritesNothing(stream, 3, 2)
        yield* check.equal((yield* appendTo(stream, [eventOf(stream)], 2)).nextExpectedRevision, 3, "then appends")
      })
  },
  {
    name: "appendToStream refuses events of another stream and a bad expected revision, naming them, writing nothing",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const [stream, other] = [freshStream(), freshStream()]
        const stray = eventOf(other)
        const refused = yield* Effect.flip(
          store.appendToStream(stream, yield* makeBatch([eventOf(stream), stray]), { expectedRevision: "any" })
        )
        yield* check.that(
          refused._tag === "StoreError" && !refused.retryable && refused.reason.includes(stray.event_id),
          `a non-retryable StoreError naming ${stray.event_id}, got ${String(refused)}`
        )
        const bad = yield* Effect.flip(
          store.appendToStream(stream, yield* makeBatch([eventOf(stream)]), { expectedRevision: -1 })
        )
        yield* check.that(
          bad._tag === "StoreError" && bad.reason.includes("expectedRevision"),
          `a StoreError naming expectedRevision, got ${String(bad)}`
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "nothing written")
      })
  },
  {
    name: "appendToStream takes duplicates as append does: skipped, no revision, and checks the stream as it is",
    run: () =>
      Effect.gen(function* () {
        const stream = freshStream()
        const [e0, e1] = [eventOf(stream), eventOf(stream)]
        yield* appendTo(stream, [e0], "no_stream")
        const again = yield* appendTo(stream, [e0, e1], 0)
        yield* check.equal(
          [again.appended, again.duplicates, again.nextExpectedRevision],
          [[e1.event_id], [e0.event_id], 1],
          "the duplicate is skipped"
        )
        const only = yield* appendTo(stream, [e1], 1)
        yield* check.equal([only.appended.length, only.nextExpectedRevision], [0, 1], "all duplicates: unchanged")
        yield* refusedWritesNothing(stream, 0, 1)
      })
  },
  {
    name: "revisions stay gap-free across append, appendToStream and a rolled-back transaction",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        yield* store.append(yield* makeBatch([eventOf(stream)]))
        yield* appendTo(stream, [eventOf(stream)], 0)
        const rolledBack = eventOf(stream)
        const failed = yield* store
          .transaction(Effect.andThen(appendTo(stream, [rolledBack], 1), Effect.fail("rolled back" as const)))
          .pipe(Effect.flip)
        yield* check.equal(failed, "rolled back", "the caller's error")
        yield* check.that(Option.isNone(yield* store.getEvent(rolledBack.event_id)), "the event rolled back")
        const inside = yield* store.transaction(
          Effect.gen(function* () {
            const r = yield* appendTo(stream, [eventOf(stream)], 1)
            yield* store.append(yield* makeBatch([eventOf(stream)]))
            return r
          })
        )
        yield* check.equal(inside.nextExpectedRevision, 2, "the rolled-back revision is taken again")
        yield* check.equal(
          (yield* revisionsOf(stream)).map(([r]) => r),
          [0, 1, 2, 3],
          "gap-free"
        )
      })
  },
  {
    name: "readStream inside a transaction reads what the transaction appended, and nothing once it rolled back",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        const [first, second] = [eventOf(stream), eventOf(stream)]
        const failed = yield* store
          .transaction(
            Effect.gen(function* () {
              yield* appendTo(stream, [first], "no_stream")
              yield* check.equal(yield* revisionsOf(stream), [[0, first.event_id]], "the transaction's own event")
              yield* appendTo(stream, [second], 0)
              yield* check.equal(
                yield* revisionsOf(stream),
                [
                  [0, first.event_id],
                  [1, second.event_id]
                ],
                "both of its events"
              )
              return yield* Effect.fail("rolled back" as const)
            })
          )
          .pipe(Effect.flip)
        yield* check.equal(failed, "rolled back", "the caller's error")
        yield* check.equal(yield* revisionsOf(stream), [], "nothing after the rollback")
      })
  },
  {
    name: "readStream reads forwards or backwards, from a revision, up to a limit",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        yield* appendTo(
          stream,
          Array.from({ length: 5 }, () => eventOf(stream)),
          "no_stream"
        )
        yield* store.append(yield* makeBatch([eventOf(freshStream())]))
        const read = (options: Parameters<EventStore["Service"]["readStream"]>[1]) =>
          Effect.map(store.readStream(stream, options), (stored) => stored.map((s) => s.revision))
        yield* check.equal(yield* read({}), [0, 1, 2, 3, 4], "forwards")
        yield* check.equal(yield* read({ from: 2, limit: 2 }), [2, 3], "forwards from 2, 2 events")
        yield* check.equal(yield* read({ from: 7 }), [], "forwards past the end")
        yield* check.equal(yield* read({ direction: "backwards" }), [4, 3, 2, 1, 0], "backwards from the end")
        yield* check.equal(yield* read({ direction: "backwards", from: 3, limit: 2 }), [3, 2], "backwards from 3")
        yield* check.equal(yield* read({ direction: "backwards", from: 9, limit: 1 }), [4], "backwards past the end")
        yield* check.equal(yield* read({ limit: 0 }), [], "limit 0")
        yield* check.equal((yield* store.readStream(freshStream())).length, 0, "a missing stream")
        const stored = (yield* store.readStream(stream, { from: 1, limit: 1 }))[0]!
        yield* check.equal(stored, Option.getOrThrow(yield* store.getEvent(stored.event.event_id)), "as getEvent")
        const bad = yield* Effect.flip(store.readStream(stream, { from: -1 }))
        yield* check.that(bad.reason.startsWith("from"), `a StoreError naming from, got ${bad.message}`)
      })
  },
  {
    name: "two writers with the same exact revision: the one that waited for the other's commit fails",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        yield* appendTo(stream, [eventOf(stream)], "no_stream")
        const appended = yield* Deferred.make<void>()
        const first = yield* Effect.forkChild(
          store.transaction(
            Effect.gen(function* () {
              const result = yield* appendTo(stream, [eventOf(stream)], 0)
              yield* Deferred.succeed(appended, undefined)
              // Holds its lock a while: the second writer is meant to be waiting for it by then
              // (if it is not, it starts after the commit; either way it must fail).
              yield* harness.advance(Duration.millis(100))
              return result
            })
          )
        )
        yield* Deferred.await(appended)
        yield* wrongRevision(appendTo(stream, [eventOf(stream)], 0), stream, 0, 1)
        yield* check.equal((yield* Fiber.join(first)).nextExpectedRevision, 1, "the first writer won")
        yield* check.equal(
          (yield* revisionsOf(stream)).map(([r]) => r),
          [0, 1],
          "one event was added"
        )
      })
  },
  {
    name: "a writer waiting on a transaction that rolls back appends at the revision it expected",
    run: (harness) =>
      Effect.gen(function* () {
        const stream = freshStream()
        yield* appendTo(stream, [eventOf(stream)], "no_stream")
        const appended = yield* Deferred.make<void>()
        const first = yield* Effect.forkChild(
          EventStore.use((store) =>
            store.transaction(
              Effect.gen(function* () {
                yield* appendTo(stream, [eventOf(stream)], 0)
                yield* Deferred.succeed(appended, undefined)
                yield* harness.advance(Duration.millis(100))
                return yield* Effect.fail("rolled back" as const)
              })
            )
          )
        )
        yield* Deferred.await(appended)
        const second = yield* appendTo(stream, [eventOf(stream)], 0)
        yield* check.equal(second.nextExpectedRevision, 1, "the second writer appended")
        yield* check.equal(yield* Effect.flip(Fiber.join(first)), "rolled back", "the first rolled back")
      })
  },
  {
    name: "concurrent appends to one stream never fail on the stream and get gap-free revisions",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        const shared = eventOf(stream)
        const writers = Array.from({ length: 16 }, (_, i) =>
          Effect.flatMap(makeBatch(i % 4 === 0 ? [shared, eventOf(stream)] : [eventOf(stream)]), (batch) =>
            i % 2 === 0 ? store.append(batch) : store.appendToStream(stream, batch)
          )
        )
        const results = yield* Effect.all(writers, { concurrency: "unbounded" })
        const appended = results.flatMap((r) => r.appended)
        yield* check.equal(appended.length, 17, "every event once (the shared one by one writer)")
        const stored = yield* revisionsOf(stream)
        yield* check.equal(
          stored.map(([r]) => r),
          Array.from({ length: 17 }, (_, i) => i),
          "revisions 0..16"
        )
        yield* check.equal(new Set(stored.map(([, id]) => id)).size, 17, "distinct events")
      })
  }
]
