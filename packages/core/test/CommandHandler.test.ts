import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Option } from "effect"
import { TestClock } from "effect/testing"
import * as CommandHandler from "../src/CommandHandler.ts"
import { EventStore } from "../src/EventStore.ts"
import { InvalidSettingError } from "../src/InvalidSetting.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import { type StreamName, streamName, WrongExpectedRevisionError } from "../src/Stream.ts"
import { layerMemoryCompetingAppends } from "../src/testing/CompetingAppends.ts"
import { makeEvent } from "../src/testing/fixtures.ts"
import { AccountEvent, AccountNotOpen, account, deposited, InsufficientFunds, opened } from "./fixtures/account.ts"

const router = makeRouterUnsafe([
  { name: "accounts", transport: "t", topic: "accounts", match: ["account.*"], ordered: true },
  { name: "audit", transport: "t", topic: "audit", match: ["account.withdrawn"] }
])
const handler = CommandHandler.make({ decider: account, events: AccountEvent, router })
const stream = streamName("account", "a-1")

/** The competing writer's event: a deposit of 5 to the stream the handler is about to append to. */
const competingDeposit = (name: StreamName) =>
  makeEvent({
    entity_type: name.entity_type,
    entity_id: name.entity_id,
    event_type: "account.deposited",
    payload: { amount: 5 }
  })

describe("CommandHandler", () => {
  it.effect("reads, folds, decides and appends the events with their outbox rows", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* TestClock.setTime(Date.UTC(2026, 2, 4, 5, 6, 7))
      const first = yield* handler.handle(stream, { type: "open", owner: "ada" })
      assert.deepStrictEqual([first.events, first.nextExpectedRevision], [[opened("ada")], 0])
      yield* handler.handle(stream, { type: "deposit", amount: 30 })
      const result = yield* handler.handle(stream, { type: "withdraw", amount: 12 })
      assert.deepStrictEqual(result.state, { open: true, balance: 18 })
      assert.deepStrictEqual([result.nextExpectedRevision, result.outboxRows], [2, 2])
      const stored = yield* store.readStream(stream)
      assert.deepStrictEqual(
        stored.map((s) => [s.revision, s.event.event_type, s.event.payload]),
        [
          [0, "account.opened", { owner: "ada" }],
          [1, "account.deposited", { amount: 30 }],
          [2, "account.withdrawn", { amount: 12 }]
        ]
      )
      const last = stored[2]!.event
      assert.deepStrictEqual(last, result.stored[0])
      assert.deepStrictEqual(
        [last.entity_type, last.entity_id, last.schema_version, DateTime.formatIso(last.occurred_at)],
        ["account", "a-1", 1, "2026-03-04T05:06:07.000Z"]
      )
      const outbox = yield* admin.listOutbox({})
      assert.deepStrictEqual(
        outbox.filter((o) => o.event_id === last.event_id).map((o) => [o.route, o.ordering_key]),
        [
          ["accounts", "account:a-1"],
          ["audit", null]
        ]
      )
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("a command the decider refuses fails with the decider's error and stores nothing", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const error = yield* Effect.flip(handler.handle(stream, { type: "deposit", amount: 1 }))
      assert.deepStrictEqual(error, new AccountNotOpen())
      yield* handler.handle(stream, { type: "open", owner: "ada" })
      const poorer = yield* Effect.flip(handler.handle(stream, { type: "withdraw", amount: 1 }))
      assert.deepStrictEqual(poorer, new InsufficientFunds({ balance: 0, amount: 1 }))
      assert.strictEqual((yield* store.readStream(stream)).length, 1)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("deciding no event appends nothing and returns the stream's revision", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* handler.handle(stream, { type: "open", owner: "ada" })
      const again = yield* handler.handle(stream, { type: "open", owner: "ada" })
      assert.deepStrictEqual([again.events, again.stored, again.nextExpectedRevision], [[], [], 0])
      assert.strictEqual((yield* store.readEvents(0, 10)).length, 1)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("the retry decides again, on the state folded with the competing event", () => {
    const competingWithdrawal = (name: StreamName) =>
      makeEvent({ ...name, event_type: "account.withdrawn", payload: { amount: 5 } })
    const racing = layerMemoryCompetingAppends({ event: competingWithdrawal })
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append({
        raw: null,
        events: [
          makeEvent({ ...stream, event_type: "account.opened", payload: { owner: "ada" } }),
          makeEvent({ ...stream, event_type: "account.deposited", payload: { amount: 10 } })
        ],
        outbox: []
      })
      // Read with a balance of 10, the withdrawal of 8 is decided; the competing one of 5 lands first.
      const error = yield* Effect.flip(handler.handle(stream, { type: "withdraw", amount: 8 }))
      assert.deepStrictEqual(error, new InsufficientFunds({ balance: 5, amount: 8 }))
      assert.strictEqual(yield* racing.competed, 1)
      assert.deepStrictEqual(
        (yield* store.readStream(stream)).map((s) => s.event.event_type),
        ["account.opened", "account.deposited", "account.withdrawn"]
      )
    }).pipe(Effect.provide(racing.layer))
  })

  it.effect(
    "retries exhausted: fails with WrongExpectedRevisionError after 1 + retries attempts, storing nothing of its own",
    () => {
      const racing = layerMemoryCompetingAppends({ event: competingDeposit, times: 10 })
      return Effect.gen(function* () {
        const store = yield* EventStore
        const twice = CommandHandler.make({ decider: account, events: AccountEvent, retries: 1 })
        yield* store.append({
          raw: null,
          events: [makeEvent({ ...stream, event_type: "account.opened", payload: { owner: "ada" } })],
          outbox: []
        })
        const error = yield* Effect.flip(twice.handle(stream, { type: "deposit", amount: 1 }))
        assert.instanceOf(error, WrongExpectedRevisionError)
        assert.deepStrictEqual([error.expected, error.actual, error.attempts], [1, 2, 2])
        assert.include(error.message, "gave up after 2 attempts")
        assert.strictEqual(yield* racing.competed, 2)
        const amounts = (yield* store.readStream(stream)).map((s) => s.event.payload)
        assert.deepStrictEqual(amounts.slice(1), [{ amount: 5 }, { amount: 5 }], "only the racing writer's deposits")
      }).pipe(Effect.provide(racing.layer))
    }
  )

  it.effect("folds a stream longer than one read (pages of 1,000 events)", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const deposits = Array.from({ length: 2_500 }, () =>
        makeEvent({
          entity_type: stream.entity_type,
          entity_id: stream.entity_id,
          event_type: "account.deposited",
          payload: { amount: 1 }
        })
      )
      yield* handler.handle(stream, { type: "open", owner: "ada" })
      yield* store.append({ raw: null, events: deposits, outbox: [] })
      const result = yield* handler.handle(stream, { type: "withdraw", amount: 7 })
      assert.deepStrictEqual(result.state, { open: true, balance: 2_493 })
      assert.strictEqual(result.nextExpectedRevision, 2_501)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("by default it starts over 3 times", () => {
    const racing = layerMemoryCompetingAppends({ event: competingDeposit, times: 10 })
    return Effect.gen(function* () {
      const error = yield* Effect.flip(handler.handle(stream, { type: "open", owner: "ada" }))
      assert.instanceOf(error, WrongExpectedRevisionError)
      assert.strictEqual(error.attempts, 4)
      assert.strictEqual(yield* racing.competed, 4)
    }).pipe(Effect.provide(racing.layer))
  })

  it.effect("a stored event the schema does not decode fails with DomainEventError naming it", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const odd = makeEvent({ ...stream, event_type: "account.renamed", payload: { name: "x" } })
      yield* store.append({ raw: null, events: [odd], outbox: [] })
      const error = yield* Effect.flip(handler.handle(stream, { type: "open", owner: "ada" }))
      assert.strictEqual(error._tag, "DomainEventError")
      assert.isTrue(error._tag === "DomainEventError" && error.eventId === odd.event_id)
      assert.include(error.message, `event ${odd.event_id} (a stored account.renamed event, version 1)`)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("a decided event that cannot be a canonical event fails with DomainEventError naming the field", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const bad = CommandHandler.make({
        decider: {
          ...account,
          decide: () => Effect.succeed([opened("a\u0000b")])
        },
        events: AccountEvent
      })
      const error = yield* Effect.flip(bad.handle(stream, { type: "open", owner: "ada" }))
      assert.strictEqual(error._tag, "DomainEventError")
      assert.match(error.message, /payload/)
      assert.strictEqual((yield* store.readEvents(0, 10)).length, 0)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("a decided payload that is not JSON fails with DomainEventError naming the field's path", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const bad = CommandHandler.make({
        decider: { ...account, decide: () => Effect.succeed([deposited(Number.NaN)]) },
        events: AccountEvent
      })
      const error = yield* Effect.flip(bad.handle(stream, { type: "deposit", amount: 1 }))
      assert.strictEqual(error._tag, "DomainEventError")
      assert.include(error.message, 'Expected a JSON value, got NaN at ["payload"]["amount"]')
      assert.strictEqual((yield* store.readEvents(0, 10)).length, 0)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it.effect("inside the caller's transaction, its events roll back with it", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const failed = yield* store
        .transaction(
          Effect.andThen(handler.handle(stream, { type: "open", owner: "ada" }), Effect.fail("later" as const))
        )
        .pipe(Effect.flip)
      assert.strictEqual(failed, "later")
      assert.isTrue(Option.isNone(Option.fromNullishOr((yield* store.readStream(stream))[0])))
      assert.strictEqual((yield* admin.stats).pending, 0)
    }).pipe(Effect.provide(MemoryEventStore.layerMemory))
  )

  it("refuses retries that are not an integer >= 0", () => {
    assert.throws(
      () => CommandHandler.make({ decider: account, events: AccountEvent, retries: -1 }),
      InvalidSettingError
    )
    assert.throws(() => CommandHandler.make({ decider: account, events: AccountEvent, retries: 1.5 }), /retries/)
  })
})

// The core README's example of a handler against a competing writer.
// #region competing-writer
it.effect("a writer that appended between the read and the append: the handler starts over and succeeds", () => {
  // Before each of the stream's first 2 appends, another writer deposits 5.
  const racing = layerMemoryCompetingAppends({
    event: (name) => makeEvent({ ...name, event_type: "account.deposited", payload: { amount: 5 } }),
    times: 2
  })
  return Effect.gen(function* () {
    const store = yield* EventStore
    const opening = makeEvent({ ...stream, event_type: "account.opened", payload: { owner: "ada" } })
    yield* store.append({ raw: null, events: [opening], outbox: [] })
    const result = yield* handler.handle(stream, { type: "deposit", amount: 1 })
    assert.strictEqual(yield* racing.competed, 2, "two appends lost the race, the third held")
    assert.deepStrictEqual(result.state, { open: true, balance: 11 }, "folded with the competing deposits")
    assert.strictEqual(result.nextExpectedRevision, 3)
  }).pipe(Effect.provide(racing.layer))
})
// #endregion competing-writer
