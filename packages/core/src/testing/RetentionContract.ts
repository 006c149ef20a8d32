/**
 * The retention contract (Retention.ts): what `OutboxAdmin.prune` deletes and what it never
 * deletes (pending and leased rows, rows younger than their age, events), and the opt-in raw
 * payload retention of `RawPayloadStore.pruneRaw`, which refuses while events are pending. Run by
 * every adapter with the OutboxAdmin and RawPayloadStore contracts.
 */
import { Clock, DateTime, Duration, Effect, Option } from "effect"
import { EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { Completion, OutboxQueue } from "../OutboxQueue.ts"
import { RawPayloadStore } from "../RawPayloadStore.ts"
import { type ContractCase, claimAll, expiryOf, lease, tokenOf } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent, makeRaw } from "./fixtures.ts"

/** Appends one event per route in `routes`, claims its rows and settles each as `outcome`. */
const settled = (routes: ReadonlyArray<string>, outcome: "delivered" | "dead") =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const queue = yield* OutboxQueue
    const event = makeEvent()
    yield* store.append(yield* makeBatch([event], routes))
    const claimed = yield* claimAll("w", 100)
    yield* queue.complete(
      claimed.map((c) =>
        outcome === "delivered"
          ? Completion.Delivered({ outboxId: c.entry.outbox_id, token: tokenOf(c) })
          : Completion.Dead({ outboxId: c.entry.outbox_id, token: tokenOf(c), error: "x" })
      )
    )
    return event
  })

const rowsOf = Effect.map(
  OutboxAdmin.use((admin) => admin.listOutbox({ limit: 1000 })),
  (rows) => rows.map((r) => `${r.route}:${r.status}`).sort()
)

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "prune deletes delivered and dead rows older than their age, in batches; younger, pending and leased rows stay, and so do events",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const age = expiryOf(harness)
        const oldDelivered = yield* settled(["a", "b"], "delivered")
        yield* settled(["a"], "dead")
        yield* harness.advance(Duration.times(age, 3))
        yield* settled(["a"], "delivered")
        yield* settled(["a"], "dead")
        // A pending row and a leased one, older than the age: never deleted.
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()], ["a"]))
        yield* OutboxQueue.use((queue) => queue.claim({ owner: "w", limit: 1, lease }))
        const before = yield* rowsOf
        const policy = { delivered: age, dead: age, batchSize: 1 }
        const dry = yield* admin.prune({ ...policy, dryRun: true })
        yield* check.equal(
          [dry.dryRun, dry.delivered, dry.dead, dry.batches, dry.byRoute],
          [true, 2, 1, 0, { a: { delivered: 1, dead: 1 }, b: { delivered: 1, dead: 0 } }],
          "a dry run counts the old settled rows"
        )
        yield* check.equal(yield* rowsOf, before, "a dry run deletes nothing")
        const report = yield* admin.prune(policy)
        yield* check.equal(
          [report.dryRun, report.delivered, report.dead, report.batches],
          [false, 2, 1, 3],
          "deleted one row per batch"
        )
        yield* check.equal(
          yield* rowsOf,
          ["a:dead", "a:delivered", "a:pending", "a:pending"],
          "the young settled rows and the pending ones stay"
        )
        const leased = yield* admin.stats
        yield* check.equal([leased.pending, leased.leased], [2, 1], "the leased row is still leased")
        yield* check.that(Option.isSome(yield* store.getEvent(oldDelivered.event_id)), "the event stays")
        const again = yield* store.append(yield* makeBatch([oldDelivered], ["a"]))
        yield* check.equal([again.appended.length, again.outboxRows], [0, 0], "appending it again is a duplicate")
        yield* check.equal((yield* admin.prune(policy)).delivered, 0, "nothing more to prune")
      })
  },
  {
    name: "prune: per-route ages override the global ones, null keeps a route's rows, no age keeps everything",
    run: (harness) =>
      Effect.gen(function* () {
        const admin = yield* OutboxAdmin
        const age = expiryOf(harness)
        yield* settled(["a", "b", "c"], "delivered")
        yield* settled(["a", "b", "c"], "dead")
        yield* harness.advance(Duration.times(age, 3))
        yield* check.equal((yield* admin.prune({})).delivered + (yield* admin.prune({})).dead, 0, "no age: kept")
        const report = yield* admin.prune({
          delivered: age,
          routes: { b: { delivered: null, dead: age }, c: { delivered: Duration.days(1) } }
        })
        yield* check.equal(
          report.byRoute,
          { a: { delivered: 1, dead: 0 }, b: { delivered: 0, dead: 1 } },
          "a: global delivered age; b: its own dead age, delivered kept; c: its longer age"
        )
        yield* check.equal(yield* rowsOf, ["a:dead", "b:delivered", "c:dead", "c:delivered"], "what the overrides keep")
      })
  },
  {
    name: "prune refuses a negative age or a batch size out of range, deleting nothing",
    run: (harness) =>
      Effect.gen(function* () {
        const admin = yield* OutboxAdmin
        yield* settled(["a"], "delivered")
        yield* harness.advance(Duration.times(expiryOf(harness), 3))
        const bad = [
          { delivered: Duration.millis(1), batchSize: 0 },
          { delivered: Duration.millis(-1) },
          { routes: { a: { dead: Duration.infinity } } }
        ]
        for (const policy of bad) {
          const error = yield* Effect.flip(admin.prune(policy))
          yield* check.equal(error._tag, "RetentionPolicyError", `refused: ${JSON.stringify(policy)}`)
        }
        yield* check.equal(yield* rowsOf, ["a:delivered"], "nothing deleted")
      })
  }
]

/** Stores a raw payload received `ageMs` before the store's clock, with one event routed to `route`. */
const rawWithEvent = (ageMs: number, route: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const now = yield* Clock.currentTimeMillis
    const raw = { ...(yield* makeRaw(`{"age":${ageMs}}`, "src")), received_at: DateTime.makeUnsafe(now - ageMs) }
    const event = makeEvent()
    yield* store.append({
      raw,
      events: [event],
      outbox: [{ event_id: event.event_id, route, topic: "t", ordering_key: null }]
    })
    return { raw, event }
  })

const rawIds = Effect.map(
  RawPayloadStore.use((raws) => raws.readRaw({ source: "src", limit: 100 })),
  (page) => page.map((s) => s.raw.raw_id).sort()
)

export interface RawRetentionCase {
  readonly name: string
  readonly run: Effect.Effect<void, unknown, EventStore | RawPayloadStore | OutboxQueue>
}

const day = 86_400_000

export const rawCases: ReadonlyArray<RawRetentionCase> = [
  {
    name: "pruneRaw deletes raw payloads older than its age once their events are settled, never the events",
    run: Effect.gen(function* () {
      const store = yield* EventStore
      const queue = yield* OutboxQueue
      const raws = yield* RawPayloadStore
      const old = yield* rawWithEvent(3 * day, "r")
      const young = yield* rawWithEvent(0, "r")
      const policy = { olderThan: Duration.days(1), batchSize: 1 }
      const refused = yield* Effect.flip(raws.pruneRaw(policy))
      yield* check.equal(
        [refused._tag, refused._tag === "RawPayloadsPendingError" ? refused.exampleRawId : ""],
        ["RawPayloadsPendingError", old.raw.raw_id],
        "refused while the old payload's event is pending"
      )
      yield* check.equal((yield* rawIds).length, 2, "refusing deleted nothing")
      const claimed = yield* queue.claim({ owner: "w", limit: 10, lease })
      yield* queue.complete(
        claimed.map((c) => Completion.Delivered({ outboxId: c.entry.outbox_id, token: tokenOf(c) }))
      )
      const dry = yield* raws.pruneRaw({ ...policy, dryRun: true })
      yield* check.equal([dry.dryRun, dry.deleted], [true, 1], "a dry run counts the old payload")
      yield* check.equal((yield* rawIds).length, 2, "a dry run deletes nothing")
      const report = yield* raws.pruneRaw(policy)
      yield* check.equal([report.dryRun, report.deleted, report.batches], [false, 1, 1], "deleted the old payload")
      yield* check.equal(yield* rawIds, [young.raw.raw_id], "the young payload stays")
      yield* check.that(Option.isNone(yield* store.getRaw(old.raw.raw_id)), "the old payload is gone")
      const event = yield* store.getEvent(old.event.event_id)
      yield* check.equal(
        Option.map(event, (e) => e.raw_id),
        Option.some(old.raw.raw_id),
        "its event stays, naming its raw id"
      )
    })
  },
  {
    name: "pruneRaw refuses a negative age",
    run: Effect.gen(function* () {
      const raws = yield* RawPayloadStore
      const error = yield* Effect.flip(raws.pruneRaw({ olderThan: Duration.millis(-1) }))
      yield* check.equal(error._tag, "RetentionPolicyError", "refused")
    })
  }
]
