import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Result, Schema } from "effect"
import * as CommandHandler from "../src/CommandHandler.ts"
import * as Decider from "../src/Decider.ts"
import type { Event } from "../src/Event.ts"
import { EventStore } from "../src/EventStore.ts"
import { InvalidSettingError } from "../src/InvalidSetting.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import * as Projection from "../src/Projection.ts"
import { streamName } from "../src/Stream.ts"
import * as Subscription from "../src/Subscription.ts"
import { SubscriptionStore } from "../src/SubscriptionStore.ts"
import { makeEvent } from "../src/testing/fixtures.ts"
import * as Upcaster from "../src/Upcaster.ts"
import * as Upcasters from "../src/Upcasters.ts"
import { AccountEvent, account } from "./fixtures/account.ts"

// quote.updated: v1 { price }, v2 { price, currency }, v3 { amount: { value, currency } }.
const V1 = Schema.Struct({ price: Schema.Number })
const V2 = Schema.Struct({ price: Schema.Number, currency: Schema.String })
const V3 = Schema.Struct({ amount: Schema.Struct({ value: Schema.Number, currency: Schema.String }) })
const quoteUpcasters = [
  Upcaster.make({
    event_type: "quote.updated",
    from: 2,
    source: V2,
    target: V3,
    upcast: (q) => ({ amount: { value: q.price, currency: q.currency } })
  }),
  Upcaster.make({
    event_type: "quote.updated",
    from: 1,
    source: V1,
    target: V2,
    upcast: (q) => ({ ...q, currency: "USD" })
  })
]
const registry = Upcasters.make(quoteUpcasters)

const quote = (schema_version: number, payload: Event["payload"], entity_id = "AAPL") =>
  makeEvent({ event_type: "quote.updated", entity_type: "quote", entity_id, schema_version, payload })

describe("Upcasters registry", () => {
  it("chains upcasters from the stored version to the latest", () => {
    assert.strictEqual(registry.latest("quote.updated"), 3)
    const v1 = Result.getOrThrow(registry.upcast(quote(1, { price: 10 })))
    assert.deepStrictEqual([v1.schema_version, v1.payload], [3, { amount: { value: 10, currency: "USD" } }])
    const v2 = Result.getOrThrow(registry.upcast(quote(2, { price: 7, currency: "EUR" })))
    assert.deepStrictEqual([v2.schema_version, v2.payload], [3, { amount: { value: 7, currency: "EUR" } }])
  })

  it("checks a payload against its type's latest version when the last upcaster has a target schema", () => {
    assert.strictEqual(
      registry.latestPayloadProblem("quote.updated", { amount: { value: 1, currency: "USD" } }),
      undefined
    )
    assert.match(registry.latestPayloadProblem("quote.updated", { price: 1 }) ?? "", /amount/)
    assert.strictEqual(registry.latestPayloadProblem("other.type", { price: 1 }), undefined, "no upcasters: unknown")
    const unchecked = Upcasters.make([
      Upcaster.fromFunction({ event_type: "quote.updated", from: 1, upcast: (p) => p })
    ])
    assert.strictEqual(unchecked.latestPayloadProblem("quote.updated", { price: 1 }), undefined, "no target schema")
  })

  it("leaves events at (or past) the latest version, and types without upcasters, as they are", () => {
    for (const event of [quote(3, { amount: { value: 1, currency: "USD" } }), quote(4, {}), makeEvent()]) {
      assert.strictEqual(Result.getOrThrow(registry.upcast(event)), event)
    }
  })

  it("fails with an UpcastError naming the event, its type, the versions and the bad field", () => {
    const event = quote(1, { price: "ten" })
    const error = Result.getFailure(registry.upcast(event)).pipe(Option.getOrThrow)
    assert.strictEqual(error._tag, "UpcastError")
    assert.deepStrictEqual(
      [error.eventId, error.eventType, error.storedVersion, error.fromVersion, error.toVersion],
      [event.event_id, "quote.updated", 1, 1, 3]
    )
    assert.include(error.message, event.event_id)
    assert.include(error.message, "price")
    assert.include(error.message, "version 1 to 2")
  })

  it("turns an exception of a function upcaster into its failure", () => {
    const throwing = Upcasters.make([
      Upcaster.fromFunction({
        event_type: "t.x",
        from: 1,
        upcast: () => {
          throw new Error("no field a")
        }
      })
    ])
    const error = Result.getFailure(throwing.upcast(makeEvent({ event_type: "t.x" }))).pipe(Option.getOrThrow)
    assert.strictEqual(error.reason, "no field a")
  })

  it("refuses two upcasters from one version, and gaps in a type's chain", () => {
    const step = (from: number) => Upcaster.fromFunction({ event_type: "t.x", from, upcast: (p) => p })
    assert.throws(() => Upcasters.make([step(1), step(1)]), InvalidSettingError)
    assert.throws(() => Upcasters.make([step(1), step(3)]), InvalidSettingError)
    assert.throws(() => Upcasters.make([step(0)]), InvalidSettingError)
  })

  it("an event older than a type's first upcaster has no chain to the latest", () => {
    const later = Upcasters.make([Upcaster.fromFunction({ event_type: "t.x", from: 2, upcast: (p) => p })])
    const error = Result.getFailure(later.upcast(makeEvent({ event_type: "t.x" }))).pipe(Option.getOrThrow)
    assert.include(error.reason, "no upcaster from version 1")
  })
})

describe("reading with upcasters", () => {
  const stream = streamName("quote", "AAPL")
  const appendQuotes = Effect.gen(function* () {
    const store = yield* EventStore
    const events = [quote(1, { price: 10 }), quote(2, { price: 11, currency: "EUR" })]
    yield* store.append({ raw: null, events, outbox: [] })
    return events
  })

  it.effect("readStream, readEvents and getEvent give the latest version; the stored rows stay as they were", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const [first] = yield* appendQuotes
      const read = yield* Upcasters.readStream(stream)
      assert.deepStrictEqual(
        read.map((s) => [s.revision, s.event.schema_version, s.event.payload]),
        [
          [0, 3, { amount: { value: 10, currency: "USD" } }],
          [1, 3, { amount: { value: 11, currency: "EUR" } }]
        ]
      )
      assert.deepStrictEqual(
        (yield* Upcasters.readEvents(0, 10)).map((s) => s.event.schema_version),
        [3, 3]
      )
      const got = yield* Upcasters.getEvent(first!.event_id)
      assert.strictEqual(Option.getOrThrow(got).event.schema_version, 3)
      // The store itself still holds (and returns) what was appended.
      const stored = yield* store.readStream(stream)
      assert.deepStrictEqual(
        stored.map((s) => [s.event.schema_version, s.event.payload]),
        [
          [1, { price: 10 }],
          [2, { price: 11, currency: "EUR" }]
        ]
      )
    }).pipe(Effect.provide([layerMemory, Upcasters.layer(quoteUpcasters)]))
  )

  it.effect("without an Upcasters layer, reads are as stored", () =>
    Effect.gen(function* () {
      yield* appendQuotes
      const read = yield* Upcasters.readStream(stream)
      assert.deepStrictEqual(
        read.map((s) => s.event.schema_version),
        [1, 2]
      )
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a subscription and a projection see each event at its latest version", () =>
    Effect.gen(function* () {
      yield* appendQuotes
      const seen: Array<unknown> = []
      yield* Subscription.catchUp({
        name: "s",
        handle: (events) => Effect.sync(() => seen.push(...events.map((e) => e.event.payload)))
      })
      const applied: Array<number> = []
      yield* Projection.catchUp(
        Projection.make({
          name: "p",
          apply: (e) => Effect.sync(() => applied.push(e.event.schema_version))
        })
      )
      assert.deepStrictEqual(seen, [
        { amount: { value: 10, currency: "USD" } },
        { amount: { value: 11, currency: "EUR" } }
      ])
      assert.deepStrictEqual(applied, [3, 3])
    }).pipe(Effect.provide([layerMemory, Upcasters.layer(quoteUpcasters)]))
  )

  it.effect("an upcaster failing stops the subscription at that event: an UpcastError, the checkpoint unmoved", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const bad = quote(1, { price: "ten" })
      yield* store.append({ raw: null, events: [bad], outbox: [] })
      const error = yield* Subscription.catchUp({ name: "s", handle: () => Effect.void }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "UpcastError")
      assert.strictEqual(error._tag === "UpcastError" && error.eventId, bad.event_id)
      const checkpoint = yield* SubscriptionStore.use((s) => s.loadCheckpoint("s"))
      assert.isTrue(Option.isNone(checkpoint))
    }).pipe(Effect.provide([layerMemory, Upcasters.layer(quoteUpcasters)]))
  )
})

describe("CommandHandler with upcasters", () => {
  // account.deposited: v1 { cents }, v2 { amount } (what the decider's schema reads).
  const depositUpcasters = [
    Upcaster.make({
      event_type: "account.deposited",
      from: 1,
      source: Schema.Struct({ cents: Schema.Int }),
      target: Schema.Struct({ amount: Schema.Number }),
      upcast: ({ cents }) => ({ amount: cents / 100 })
    })
  ]
  const handler = CommandHandler.make({ decider: account, events: AccountEvent })
  const stream = streamName("account", "a-1")
  const oldEvents = (payload: Event["payload"]) => [
    makeEvent({ ...stream, event_type: "account.opened", payload: { owner: "ada" } }),
    makeEvent({ ...stream, event_type: "account.deposited", payload })
  ]

  it.effect("folds stored events at their latest version and stores new ones at it", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ raw: null, events: oldEvents({ cents: 2500 }), outbox: [] })
      const result = yield* handler.handle(stream, { type: "withdraw", amount: 5 })
      assert.deepStrictEqual(result.state, { open: true, balance: 20 })
      assert.strictEqual(result.stored[0]!.schema_version, 1, "account.withdrawn has no upcasters")
      const deposit = yield* handler.handle(stream, { type: "deposit", amount: 1 })
      assert.strictEqual(deposit.stored[0]!.schema_version, 2, "written at the type's latest version")
      const again = yield* handler.handle(stream, { type: "withdraw", amount: 21 })
      assert.deepStrictEqual(again.state, { open: true, balance: 0 })
      const stored = yield* store.readStream(stream)
      assert.deepStrictEqual(stored[1]!.event.payload, { cents: 2500 }, "the stored event is unchanged")
    }).pipe(Effect.provide([layerMemory, Upcasters.layer(depositUpcasters)]))
  )

  it.effect("fails with the UpcastError of a stored event it cannot upcast", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const events = oldEvents({ dollars: 3 })
      yield* store.append({ raw: null, events, outbox: [] })
      const error = yield* handler.handle(stream, { type: "withdraw", amount: 1 }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "UpcastError")
      assert.strictEqual(error._tag === "UpcastError" && error.eventId, events[1]!.event_id)
    }).pipe(Effect.provide([layerMemory, Upcasters.layer(depositUpcasters)]))
  )

  // account.deposited: v1 { amount }, v2 { amount, currency }; the decider still emits v1's shape.
  const currencyStep = { event_type: "account.deposited", from: 1 } as const
  const withCurrency = Upcaster.make({
    ...currencyStep,
    source: Schema.Struct({ amount: Schema.Number }),
    target: Schema.Struct({ amount: Schema.Number, currency: Schema.String }),
    upcast: (v1) => ({ ...v1, currency: "USD" })
  })
  const opening = makeEvent({ ...stream, event_type: "account.opened", payload: { owner: "ada" } })

  it.effect(
    "refuses a decided event whose payload is not its type's latest version, naming the field; writes nothing",
    () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append({ raw: null, events: [opening], outbox: [] })
        const error = yield* handler.handle(stream, { type: "deposit", amount: 5 }).pipe(Effect.flip)
        assert.strictEqual(error._tag, "LatestVersionPayloadError")
        if (error._tag !== "LatestVersionPayloadError") return
        assert.deepStrictEqual([error.eventType, error.schemaVersion], ["account.deposited", 2])
        assert.match(error.reason, /currency/)
        assert.match(error.message, /account\.deposited .*version 2.*currency/)
        assert.strictEqual((yield* store.readStream(stream)).length, 1, "nothing written")
      }).pipe(Effect.provide([layerMemory, Upcasters.layer([withCurrency])]))
  )

  // A decider whose deposits give their schema_version explicitly.
  const Versioned = Schema.Union([
    Schema.Struct({ type: Schema.Literal("account.opened"), payload: Schema.Struct({ owner: Schema.String }) }),
    Schema.Struct({
      type: Schema.Literal("account.deposited"),
      payload: Schema.Struct({ amount: Schema.Number, currency: Schema.optionalKey(Schema.String) }),
      schema_version: Schema.optionalKey(Schema.Int)
    })
  ])
  const versioned = (schema_version: number, payload: { amount: number; currency?: string }) =>
    CommandHandler.make({
      decider: Decider.make({
        initialState: () => 0,
        evolve: (count: number, _: typeof Versioned.Type) => count + 1,
        decide: (_: "deposit"): Effect.Effect<ReadonlyArray<typeof Versioned.Type>> =>
          Effect.succeed([{ type: "account.deposited", payload, schema_version }])
      }),
      events: Versioned
    })

  it.effect("a decided event's explicit schema_version: above the latest refused, at it checked, below it kept", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ raw: null, events: [opening], outbox: [] })
      const ahead = yield* versioned(7, { amount: 5, currency: "EUR" }).handle(stream, "deposit").pipe(Effect.flip)
      assert.strictEqual(ahead._tag, "SchemaVersionAheadError")
      if (ahead._tag !== "SchemaVersionAheadError") return
      assert.deepStrictEqual([ahead.eventType, ahead.schemaVersion, ahead.latest], ["account.deposited", 7, 2])
      assert.match(ahead.message, /schema_version 7, above the type's latest version 2/)
      const oldShape = yield* versioned(2, { amount: 5 }).handle(stream, "deposit").pipe(Effect.flip)
      assert.strictEqual(oldShape._tag, "LatestVersionPayloadError", "the latest version's payload is checked")
      assert.strictEqual((yield* store.readStream(stream)).length, 1, "nothing written")
      const older = yield* versioned(1, { amount: 5 }).handle(stream, "deposit")
      assert.deepStrictEqual([older.stored[0]!.schema_version, older.stored[0]!.payload], [1, { amount: 5 }])
      const latest = yield* versioned(2, { amount: 5, currency: "EUR" }).handle(stream, "deposit")
      assert.strictEqual(latest.stored[0]!.schema_version, 2)
    }).pipe(Effect.provide([layerMemory, Upcasters.layer([withCurrency])]))
  )

  it.effect("without a target schema (fromFunction) the payload is written at the latest version unchecked", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({ raw: null, events: [opening], outbox: [] })
      const result = yield* handler.handle(stream, { type: "deposit", amount: 5 })
      assert.deepStrictEqual([result.stored[0]!.schema_version, result.stored[0]!.payload], [2, { amount: 5 }])
    }).pipe(
      Effect.provide([
        layerMemory,
        Upcasters.layer([
          Upcaster.fromFunction({ ...currencyStep, upcast: (v1) => ({ ...(v1 as object), currency: "USD" }) })
        ])
      ])
    )
  )
})
