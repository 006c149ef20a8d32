/**
 * The EventStore contract's cases on batches appended `once` (AppendBatch.once): the raw payload's
 * id is the batch's idempotency key, so a second batch under a stored id appends nothing and says
 * `redelivered`, even when its events differ (a webhook delivered again, received at another time).
 */
import { Effect, Option } from "effect"
import type { Event } from "../Event.ts"
import { type AppendBatch, EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { streamOf } from "../Stream.ts"
import type { ContractCase } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

/** A batch of `events` appended once, under `rawId` when given. */
const onceBatch = (events: ReadonlyArray<Event>, rawId?: string) =>
  Effect.map(
    makeBatch(events),
    (batch): AppendBatch => ({
      ...batch,
      raw: rawId === undefined ? batch.raw : ({ ...batch.raw!, raw_id: rawId } as AppendBatch["raw"]),
      once: true
    })
  )

/** The same event received later: its default time moved (it would be a correction). */
const later = (event: Event): Event => ({ ...event, payload: { ...(event.payload as object), later: true } })

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "once: a batch under a stored raw payload id appends nothing and says redelivered",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const event = makeEvent()
        const first = yield* onceBatch([event])
        const stored = yield* store.append(first)
        yield* check.equal(
          [stored.appended, stored.outboxRows, stored.redelivered ?? false],
          [[event.event_id], 1, false],
          "the first delivery is appended"
        )
        const again = yield* onceBatch([later(event), makeEvent()], first.raw!.raw_id)
        const second = yield* store.append(again)
        yield* check.equal(
          [second.appended, second.duplicates, second.corrected, second.outboxRows, second.redelivered],
          [[], [], [], 0, true],
          "the second appends nothing"
        )
        yield* check.equal(
          (yield* store.readEvents(0, 10)).map((s) => s.event),
          [event],
          "one event, as first delivered"
        )
        yield* check.equal((yield* store.readStream(streamOf(event))).length, 1, "its stream moved once")
        yield* check.equal((yield* admin.stats).pending, 1, "one outbox row")
        const raw = yield* store.getRaw(first.raw!.raw_id)
        yield* check.equal(
          Option.map(raw, (r) => r.trace_id),
          Option.some(first.raw!.trace_id),
          "the first copy kept"
        )
      })
  },
  {
    name: "once: a raw payload stored without events (a plain append) also makes a later batch a redelivery",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const plain = yield* makeBatch([])
        yield* store.append(plain)
        const result = yield* store.append(yield* onceBatch([makeEvent()], plain.raw!.raw_id))
        yield* check.equal([result.appended, result.redelivered], [[], true], "nothing appended")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event")
      })
  },
  {
    name: "once: appendAll appends each batch once, a later one of the same raw id being a redelivery",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const [a, b, c] = [makeEvent(), makeEvent(), makeEvent()]
        const first = yield* onceBatch([a])
        const results = yield* store.appendAll([
          first,
          yield* onceBatch([b]),
          yield* onceBatch([later(a), c], first.raw!.raw_id)
        ])
        yield* check.equal(
          results.map((r) => [r.appended, r.redelivered ?? false]),
          [
            [[a.event_id], false],
            [[b.event_id], false],
            [[], true]
          ],
          "results per batch"
        )
        yield* check.equal(
          (yield* store.readEvents(0, 10)).map((s) => s.event.event_id),
          [a.event_id, b.event_id],
          "two events"
        )
      })
  },
  {
    name: "once: appendAll of independent batches, one under a stored raw id: only that one is a redelivery",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const [x, a, b, c] = [makeEvent(), makeEvent(), makeEvent(), makeEvent()]
        const stored = yield* onceBatch([x])
        yield* store.append(stored)
        const results = yield* store.appendAll([
          yield* onceBatch([a]),
          yield* onceBatch([later(x), c], stored.raw!.raw_id),
          yield* onceBatch([b])
        ])
        yield* check.equal(
          results.map((r) => [r.appended, r.duplicates, r.outboxRows, r.redelivered ?? false]),
          [
            [[a.event_id], [], 1, false],
            [[], [], 0, true],
            [[b.event_id], [], 1, false]
          ],
          "results per batch"
        )
        yield* check.equal(
          (yield* store.readEvents(0, 10)).map((s) => s.event),
          [x, a, b],
          "the redelivered batch's events are not stored"
        )
        yield* check.equal((yield* admin.stats).pending, 3, "one outbox row per stored event")
      })
  },
  {
    name: "once: concurrent batches of one raw payload id, exactly one appends",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const first = yield* onceBatch([makeEvent()])
        const others = yield* Effect.forEach([1, 2, 3], () => onceBatch([makeEvent()], first.raw!.raw_id))
        const results = yield* Effect.forEach([first, ...others], (batch) => store.append(batch), {
          concurrency: "unbounded"
        })
        yield* check.equal(
          results.map((r) => r.redelivered ?? false).filter((redelivered) => !redelivered).length,
          1,
          "one appended"
        )
        const winner = results.findIndex((r) => r.redelivered !== true)
        yield* check.equal(
          (yield* store.readEvents(0, 10)).map((s) => s.event.event_id),
          results[winner]!.appended,
          "its event alone stored"
        )
      })
  },
  {
    name: "once: refused without a raw payload, and by appendToStream",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const event = makeEvent()
        const noRaw = yield* Effect.flip(store.append({ raw: null, events: [event], outbox: [], once: true }))
        yield* check.equal([noRaw._tag, noRaw.retryable], ["StoreError", false], "append without a raw payload")
        const batch = yield* onceBatch([event])
        const stream = yield* Effect.flip(store.appendToStream(streamOf(event), batch))
        yield* check.equal(
          [stream._tag, stream._tag === "StoreError" && stream.retryable],
          ["StoreError", false],
          "appendToStream"
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "nothing stored")
        yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
      })
  }
]
