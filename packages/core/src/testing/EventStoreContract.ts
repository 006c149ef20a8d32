/**
 * The EventStore contract: what every adapter (memory, PGlite, PostgreSQL) must do as the event
 * log. This file holds the cases on append, transactions, positions and duplicates, with the text
 * checks of StorableTextContract.ts; the streams' cases (StreamContract.ts) run beside them. The
 * other ports' contracts are OutboxQueueContract.ts, OutboxAdminContract.ts and
 * SubscriptionContract.ts. Cases check what an append leaves in the outbox through those ports: a
 * store provides them all.
 *
 * Cases are plain Effects so the suites run under any test runner and runtime; `@sluice/core/vitest`
 * wraps them (`eventLogSuite`, `outboxQueueSuite`, `outboxAdminSuite`, `subscriptionSuite`, and
 * `eventStoreSuite` for the first three). Each case needs a fresh, empty store.
 */
import { Duration, Effect, Fiber, Option } from "effect"
import { EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { type ContractCase, claimAll } from "./ContractHarness.ts"
import * as CorrectionContract from "./CorrectionContract.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"
import * as InvalidEventContract from "./InvalidEventContract.ts"
import * as OnceContract from "./OnceContract.ts"
import * as StorableTextContract from "./StorableTextContract.ts"

export type { ContractCase, Harness, StoreServices } from "./ContractHarness.ts"

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "append stores the raw payload, the events in position order and one outbox row per route",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const events = [makeEvent(), makeEvent()]
        const batch = yield* makeBatch(events, ["a", "b"])
        const result = yield* store.append(batch)
        yield* check.equal(
          result.appended,
          events.map((e) => e.event_id),
          "appended ids"
        )
        yield* check.equal(result.outboxRows, 4, "outbox rows")
        const stored = yield* store.readEvents(0, 10)
        yield* check.equal(
          stored.map((s) => s.event.event_id),
          events.map((e) => e.event_id),
          "event log order"
        )
        yield* check.that(stored[0]!.position < stored[1]!.position, "positions increase")
        yield* check.equal(stored[0]!.raw_id, batch.raw!.raw_id, "events point at their raw payload")
        yield* check.equal(
          stored.map((s) => s.event),
          events,
          "events round-trip unchanged"
        )
        const raw = yield* store.getRaw(batch.raw!.raw_id)
        yield* check.equal(Option.getOrUndefined(raw), batch.raw!, "raw payload round-trips")
        const got = yield* store.getEvent(events[1]!.event_id)
        yield* check.equal(
          Option.map(got, (s) => s.event.event_id),
          Option.some(events[1]!.event_id),
          "getEvent"
        )
        const stats = yield* admin.stats
        yield* check.equal([stats.pending, stats.byRoute.a?.pending, stats.byRoute.b?.pending], [4, 2, 2], "stats")
        yield* check.equal((yield* store.readEvents(stored[0]!.position, 10)).length, 1, "readEvents pages")
      })
  },
  {
    name: "a transaction that fails after an append leaves nothing",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const batch = yield* makeBatch([makeEvent()])
        const failed = yield* store
          .transaction(Effect.andThen(store.append(batch), Effect.fail("business rule broken" as const)))
          .pipe(Effect.flip)
        yield* check.equal(failed, "business rule broken", "the caller's error comes back")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event")
        yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
        yield* check.equal((yield* admin.stats).pending, 0, "no outbox row")
        const ok = yield* store.transaction(store.append(batch))
        yield* check.equal(ok.outboxRows, 1, "the same batch commits afterwards")
      })
  },
  {
    name: "what a transaction appended is invisible to claims until it commits, and gone if it rolls back",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const batch = yield* makeBatch([makeEvent()])
        const tx = yield* Effect.forkChild(
          store.transaction(
            Effect.andThen(
              store.append(batch),
              Effect.andThen(Effect.sleep(Duration.millis(300)), Effect.fail("abort"))
            )
          )
        )
        yield* harness.advance(Duration.millis(100))
        // A store may answer at once (SQL: the rows are not visible) or wait for the transaction.
        const claimer = yield* Effect.forkChild(claimAll("other"))
        yield* harness.advance(Duration.millis(400))
        yield* Fiber.await(tx)
        const claimed = yield* Fiber.join(claimer)
        yield* check.equal(claimed.length, 0, "nothing from an uncommitted transaction is claimed")
        yield* check.equal((yield* admin.stats).pending, 0, "rolled back")
      })
  },
  {
    name: "a nested transaction that fails is rolled back alone (a savepoint); the outer one commits",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const kept = yield* makeBatch([makeEvent()])
        const dropped = yield* makeBatch([makeEvent()])
        yield* store.transaction(
          Effect.gen(function* () {
            yield* store.append(kept)
            yield* store.transaction(Effect.andThen(store.append(dropped), Effect.fail("inner"))).pipe(Effect.ignore)
          })
        )
        const events = yield* store.readEvents(0, 10)
        yield* check.equal(
          events.map((e) => e.event.event_id),
          [kept.events[0]!.event_id],
          "only the outer append"
        )
        yield* check.equal((yield* admin.stats).pending, 1, "one outbox row")
      })
  },
  {
    name: "positions stay increasing and readEvents pages correctly after a rollback",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* store
          .transaction(Effect.andThen(store.append(yield* makeBatch([makeEvent()])), Effect.fail("x")))
          .pipe(Effect.ignore)
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        const all = yield* store.readEvents(0, 10)
        yield* check.equal(all.length, 3, "three events")
        yield* check.that(all[0]!.position < all[1]!.position && all[1]!.position < all[2]!.position, "increasing")
        const after = yield* store.readEvents(all[0]!.position, 10)
        yield* check.equal(
          after.map((e) => e.position),
          [all[1]!.position, all[2]!.position],
          "paging by position"
        )
      })
  },
  {
    name: "an invalid append fails and leaves nothing (no raw payload, no valid event)",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const batch = yield* makeBatch([makeEvent()])
        const stray = makeEvent()
        const error = yield* store
          .append({ ...batch, outbox: [...batch.outbox, { ...batch.outbox[0]!, event_id: stray.event_id }] })
          .pipe(Effect.flip)
        yield* check.equal(error._tag, "StoreError", "fails with StoreError")
        yield* check.that(!error.retryable, "invalid input is not retryable")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event")
        yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
        yield* check.equal((yield* admin.stats).pending, 0, "no outbox row")
      })
  },
  {
    name: "a deterministic event appended twice is stored once, with one outbox row per route",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const event = makeEvent()
        const first = yield* store.append(yield* makeBatch([event]))
        const second = yield* store.append(yield* makeBatch([event]))
        yield* check.equal([first.appended.length, first.outboxRows], [1, 1], "first append")
        yield* check.equal([second.appended, second.duplicates, second.outboxRows], [[], [event.event_id], 0], "second")
        const twice = makeEvent()
        const inOne = yield* store.append(yield* makeBatch([twice, twice]))
        yield* check.equal(
          [inOne.appended, inOne.duplicates],
          [[twice.event_id], [twice.event_id]],
          "twice in one batch"
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 2, "two events stored")
        yield* check.equal((yield* admin.stats).pending, 2, "two outbox rows")
      })
  },
  {
    name: "a raw payload appended again under its id (a redelivered message) is stored once, its events duplicates",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const event = makeEvent()
        const first = yield* makeBatch([event])
        yield* store.append(first)
        // The same id with another trace and receipt time: a second delivery of one message.
        const again = yield* makeBatch([event])
        const second = yield* store.append({ ...again, raw: { ...again.raw!, raw_id: first.raw!.raw_id } })
        yield* check.equal([second.appended, second.duplicates], [[], [event.event_id]], "second append")
        const raw = yield* store.getRaw(first.raw!.raw_id)
        yield* check.equal(
          Option.map(raw, (r) => r.trace_id),
          Option.some(first.raw!.trace_id),
          "the first copy kept"
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 1, "one event stored")
      })
  },
  {
    name: "appendAll appends batches in order, each seeing the ones before it, and keeps a raw id once",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const [e1, e2, e3] = [makeEvent(), makeEvent(), makeEvent()]
        const a = yield* makeBatch([e1!, e2!])
        const b = yield* makeBatch([e3!, e1!])
        const again = yield* makeBatch([e2!])
        const c = { ...again, raw: { ...again.raw!, raw_id: a.raw!.raw_id } }
        const results = yield* store.appendAll([a, b, c])
        yield* check.equal(
          results.map((r) => [r.appended, r.duplicates, r.outboxRows]),
          [
            [[e1!.event_id, e2!.event_id], [], 2],
            [[e3!.event_id], [e1!.event_id], 1],
            [[], [e2!.event_id], 0]
          ],
          "results per batch"
        )
        const stored = yield* store.readEvents(0, 10)
        yield* check.equal(
          stored.map((s) => [s.event.event_id, s.raw_id]),
          [
            [e1!.event_id, a.raw!.raw_id],
            [e2!.event_id, a.raw!.raw_id],
            [e3!.event_id, b.raw!.raw_id]
          ],
          "log order and raw payloads"
        )
        const raw = yield* store.getRaw(a.raw!.raw_id)
        yield* check.equal(
          Option.map(raw, (r) => r.trace_id),
          Option.some(a.raw!.trace_id),
          "the first copy kept"
        )
        yield* check.equal((yield* admin.stats).pending, 3, "outbox rows")
        yield* check.equal(yield* store.appendAll([]), [], "nothing to append")
      })
  },
  {
    name: "appendAll of independent batches: stream revisions in batch order, stored events duplicates",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const stored = makeEvent()
        yield* store.append(yield* makeBatch([stored]))
        const entity = { entity_type: "order", entity_id: "o-1" }
        const [x1, x2, x3] = [makeEvent(entity), makeEvent(entity), makeEvent(entity)]
        const a = yield* makeBatch([x1!, stored])
        const b = yield* makeBatch([x2!, x3!])
        const results = yield* store.appendAll([a, b])
        yield* check.equal(
          results.map((r) => [r.appended, r.duplicates, r.outboxRows]),
          [
            [[x1!.event_id], [stored.event_id], 1],
            [[x2!.event_id, x3!.event_id], [], 2]
          ],
          "results per batch"
        )
        const log = (yield* store.readEvents(0, 10)).slice(1)
        yield* check.equal(
          log.map((e) => [e.event.event_id, e.revision, e.raw_id]),
          [
            [x1!.event_id, 0, a.raw!.raw_id],
            [x2!.event_id, 1, b.raw!.raw_id],
            [x3!.event_id, 2, b.raw!.raw_id]
          ],
          "positions, revisions and raw payloads in batch order"
        )
        yield* check.that(Option.isSome(yield* store.getRaw(b.raw!.raw_id)), "every raw payload stored")
        yield* check.equal((yield* admin.stats).pending, 4, "outbox rows")
      })
  },
  {
    name: "appendAll of fresh batches reports each batch's events, a repeated event and its outbox rows",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const [x1, x2, x3] = [makeEvent(), makeEvent(), makeEvent()]
        const a = yield* makeBatch([x1!, x1!], ["r1", "r2"])
        const b = yield* makeBatch([x2!, x3!], [])
        const results = yield* store.appendAll([a, b])
        yield* check.equal(
          results.map((r) => [r.appended, r.duplicates, r.corrected, r.outdated, r.outboxRows]),
          [
            [[x1!.event_id], [x1!.event_id], [], [], 2],
            [[x2!.event_id, x3!.event_id], [], [], [], 0]
          ],
          "results per batch"
        )
        yield* check.equal((yield* admin.stats).pending, 2, "outbox rows")
      })
  },
  {
    name: "appendAll reports a restated event as a correction of its batch, with its outbox row",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const first = makeEvent()
        yield* store.append(yield* makeBatch([first]))
        const restated = { ...first, payload: { restated: true } }
        const other = makeEvent()
        const results = yield* store.appendAll([yield* makeBatch([restated]), yield* makeBatch([other])])
        yield* check.equal(
          results.map((r) => [r.appended, r.corrected.map((c) => [c.of, c.supersedes]), r.outboxRows]),
          [
            [[], [[first.event_id, first.event_id]], 1],
            [[other.event_id], [], 1]
          ],
          "results per batch"
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 3, "the correction stored under a new id")
      })
  },
  {
    name: "appendAll is atomic: one invalid batch and none is stored",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const good = yield* makeBatch([makeEvent()])
        const bad = yield* makeBatch([makeEvent({ entity_id: "a\u0000b" })])
        const error = yield* Effect.flip(store.appendAll([good, bad]))
        yield* check.equal([error._tag, error.retryable], ["StoreError", false], "refused")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event")
        yield* check.that(Option.isNone(yield* store.getRaw(good.raw!.raw_id)), "no raw payload")
      })
  },
  ...StorableTextContract.cases,
  ...InvalidEventContract.cases,
  ...CorrectionContract.cases,
  ...OnceContract.cases
]
