import { assert, describe, it } from "@effect/vitest"
import { Context, Data, Effect, Layer } from "effect"
import * as CommandHandler from "../src/CommandHandler.ts"
import type { Event } from "../src/Event.ts"
import { EventStore, StoreError } from "../src/EventStore.ts"
import * as InlineProjection from "../src/InlineProjection.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { streamName } from "../src/Stream.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import * as Upcaster from "../src/Upcaster.ts"
import * as Upcasters from "../src/Upcasters.ts"
import { AccountEvent, account } from "./fixtures/account.ts"

/** An in-memory read model, as a service the projection needs (taken from the layers below it). */
class Seen extends Context.Service<Seen, Array<Event>>()("test/Seen") {}

class Refused extends Data.TaggedError("Refused")<{ readonly event_id: string }> {}

const recording = InlineProjection.make({
  name: "recording",
  eventTypes: ["test.happened", "account.opened", "account.deposited"],
  apply: (event) => Seen.use((seen) => Effect.sync(() => void seen.push(event)))
})

/** Refuses events whose payload says `refuse`. */
const refusing = InlineProjection.make({
  name: "refusing",
  apply: (event) =>
    (event.payload as { readonly refuse?: boolean }).refuse === true
      ? Effect.fail(new Refused({ event_id: event.event_id }))
      : Effect.void
})

const layerWith = (projections: ReadonlyArray<InlineProjection.InlineProjection<unknown, Seen>>) =>
  InlineProjection.layer(projections).pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        layerMemory,
        Layer.sync(Seen, () => [])
      )
    )
  )

const seenIds = Seen.use((seen) => Effect.succeed(seen.map((e) => e.event_id)))

describe("inline projections (memory store)", () => {
  it.effect("see the events each append newly stored, never a duplicate", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const events = [makeEvent(), makeEvent()]
      yield* store.append(yield* makeBatch(events))
      assert.deepStrictEqual(
        yield* seenIds,
        events.map((e) => e.event_id)
      )
      const later = makeEvent()
      const result = yield* store.append(yield* makeBatch([events[0]!, later, later]))
      assert.deepStrictEqual(result.appended, [later.event_id])
      assert.deepStrictEqual(
        yield* seenIds,
        [...events, later].map((e) => e.event_id)
      )
    }).pipe(Effect.provide(layerWith([recording])))
  )

  it.effect("skip event types they do not apply", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent({ event_type: "other.thing" })]))
      assert.deepStrictEqual(yield* seenIds, [])
      assert.strictEqual((yield* store.readEvents(0, 10)).length, 1)
    }).pipe(Effect.provide(layerWith([recording])))
  )

  it.effect("a projection that fails rolls the append back: no event, no outbox row", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const bad = makeEvent({ payload: { refuse: true } })
      const error = yield* store.append(yield* makeBatch([makeEvent(), bad])).pipe(Effect.flip)
      assert.instanceOf(error, StoreError)
      assert.strictEqual(error.operation, "inline projection refusing")
      assert.deepStrictEqual(error.cause, new Refused({ event_id: bad.event_id }))
      assert.isFalse(error.retryable)
      assert.deepStrictEqual(yield* store.readEvents(0, 10), [])
      assert.strictEqual((yield* admin.stats).pending, 0)
    }).pipe(Effect.provide(layerWith([recording, refusing])))
  )

  it.effect("appendToStream and the command handler go through them", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const stream = streamName("account", "a-1")
      const handler = CommandHandler.make({ decider: account, events: AccountEvent })
      yield* handler.handle(stream, { type: "open", owner: "ada" })
      yield* handler.handle(stream, { type: "deposit", amount: 5 })
      const seen = yield* Seen
      assert.deepStrictEqual(
        seen.map((e) => [e.event_type, e.payload]),
        [
          ["account.opened", { owner: "ada" }],
          ["account.deposited", { amount: 5 }]
        ]
      )
      const error = yield* store
        .appendToStream(stream, {
          raw: null,
          events: [makeEvent({ ...stream, payload: { refuse: true } })],
          outbox: []
        })
        .pipe(Effect.flip)
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual((yield* store.readStream(stream)).length, 2)
    }).pipe(Effect.provide(layerWith([recording, refusing])))
  )

  it.effect("see events at their latest version", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent({ payload: { n: 1 } })]))
      const [seen] = yield* Seen
      assert.deepStrictEqual([seen!.schema_version, seen!.payload], [2, { n: 1, v2: true }])
      const [stored] = yield* store.readEvents(0, 10)
      assert.deepStrictEqual([stored!.event.schema_version, stored!.event.payload], [1, { n: 1 }])
    }).pipe(
      Effect.provide([
        layerWith([recording]),
        Upcasters.layer([
          Upcaster.fromFunction({
            event_type: "test.happened",
            from: 1,
            upcast: (p) => ({ ...(p as object), v2: true })
          })
        ])
      ])
    )
  )

  it.effect("start over when the append itself failed retryably (a race), not when a projection did", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryEventStore.make
      let races = 2
      const racing = EventStore.of({
        ...memory,
        append: (batch) =>
          races-- > 0
            ? Effect.fail(new StoreError({ operation: "append", reason: "raced", retryable: true }))
            : memory.append(batch)
      })
      const seen: Array<Event> = []
      const store = InlineProjection.decorate(racing, [recording], Context.make(Seen, seen))
      const event = makeEvent()
      yield* store.append(yield* makeBatch([event]))
      assert.deepStrictEqual(
        seen.map((e) => e.event_id),
        [event.event_id]
      )
      const flaky = InlineProjection.make({
        name: "flaky",
        apply: () => Effect.fail(new StoreError({ operation: "write", reason: "lost", retryable: true }))
      })
      let appends = 0
      const counting = EventStore.of({
        ...memory,
        append: (batch) =>
          Effect.andThen(
            Effect.sync(() => appends++),
            memory.append(batch)
          )
      })
      const error = yield* InlineProjection.decorate(counting, [flaky], Context.empty())
        .append(yield* makeBatch([makeEvent()]))
        .pipe(Effect.flip)
      assert.deepStrictEqual([error.operation, error.retryable, appends], ["write", true, 1])
    })
  )
})
