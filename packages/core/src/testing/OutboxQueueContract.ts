/**
 * The OutboxQueue contract: what every adapter (memory, PGlite, PostgreSQL) must do for relays.
 * Claims and leases, results and fencing, ordered routes, and wake-ups (`waitForWork`). The rows
 * come from `EventStore.append`, and cases read them back through OutboxAdmin: a store provides all
 * three. Each case needs a fresh, empty store.
 */
import { DateTime, Duration, Effect, Fiber } from "effect"
import { EventStore } from "../EventStore.ts"
import type { OutboxId } from "../Outbox.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { Completion, OutboxQueue } from "../OutboxQueue.ts"
import {
  type ContractCase,
  claimAll,
  ended,
  entryOf,
  expiryOf,
  lease,
  settleSignals,
  tokenOf
} from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"
import * as StorableTextContract from "./StorableTextContract.ts"

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "claim leases due rows in append order, up to the limit, and never hands a leased row out twice",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const events = [makeEvent(), makeEvent(), makeEvent()]
        yield* store.append(yield* makeBatch(events))
        const first = yield* claimAll("w1", 2)
        yield* check.equal(
          first.map((c) => c.event.event_id),
          events.slice(0, 2).map((e) => e.event_id),
          "order"
        )
        yield* check.that(
          first.every((c) => c.entry.lease?.owner === "w1"),
          "lease owner recorded"
        )
        yield* check.that(new Set(first.map(tokenOf)).size === 2 || first.length < 2, "a token per row")
        const second = yield* claimAll("w2")
        yield* check.equal(
          second.map((c) => c.event.event_id),
          [events[2]!.event_id],
          "only the unleased row"
        )
        yield* check.equal((yield* claimAll("w3")).length, 0, "nothing left")
        yield* check.equal((yield* admin.stats).leased, 3, "three leased")
      })
  },
  {
    name: "concurrent claims never hand out the same row twice",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch(Array.from({ length: 30 }, () => makeEvent())))
        const batches = yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => `w${i}`),
          (owner) => queue.claim({ owner, limit: 5, lease }),
          { concurrency: "unbounded" }
        )
        const ids = batches.flat().map((c) => c.entry.outbox_id)
        yield* check.equal(ids.length, 30, "every row claimed once")
        yield* check.equal(new Set(ids).size, 30, "no row claimed twice")
      })
  },
  {
    name: "claim only takes the routes asked for",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch([makeEvent()], ["a", "b"]))
        const claimed = yield* queue.claim({ owner: "w", limit: 10, lease, routes: ["b"] })
        yield* check.equal(
          claimed.map((c) => c.entry.route),
          ["b"],
          "route b only"
        )
      })
  },
  {
    name: "delivered: the row leaves the queue with one attempt and a delivery time",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll()
        const report = yield* queue.complete([
          Completion.Delivered({ outboxId: claimed!.entry.outbox_id, token: tokenOf(claimed!) })
        ])
        yield* check.equal(report, { applied: [claimed!.entry.outbox_id], rejected: [] }, "applied")
        const entry = yield* entryOf(claimed!.entry.outbox_id)
        yield* check.equal([entry.status, entry.attempts, entry.lease], ["delivered", 1, null], "delivered row")
        yield* check.that(entry.delivered_at !== null, "delivered_at set")
        yield* check.equal((yield* claimAll()).length, 0, "not claimable again")
        const again = yield* queue.complete([
          Completion.Delivered({ outboxId: claimed!.entry.outbox_id, token: tokenOf(claimed!) })
        ])
        yield* check.equal(again.rejected, [claimed!.entry.outbox_id], "a second result is refused")
      })
  },
  {
    name: "retry: attempts+1, the error kept, claimable again only once due",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const delay = Duration.toMillis(expiryOf(harness))
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll()
        const before = DateTime.toEpochMillis(yield* harness.now)
        yield* queue.complete([
          Completion.Retry({
            outboxId: claimed!.entry.outbox_id,
            token: tokenOf(claimed!),
            error: "503 busy",
            delayMs: delay
          })
        ])
        const after = DateTime.toEpochMillis(yield* harness.now)
        const entry = yield* entryOf(claimed!.entry.outbox_id)
        yield* check.equal(
          [entry.status, entry.attempts, entry.last_error, entry.lease],
          ["pending", 1, "503 busy", null],
          "row"
        )
        // The delay counts from when the store recorded the result, by the store's clock (a database
        // on this machine: allow a few milliseconds between its clock and ours).
        const due = DateTime.toEpochMillis(entry.next_attempt_at)
        yield* check.that(
          due >= before + delay - 5 && due <= after + delay + 5,
          `next attempt ${due} within [${before + delay}, ${after + delay}]`
        )
        yield* check.equal((yield* claimAll()).length, 0, "not claimable before it is due")
        yield* harness.advance(Duration.millis(delay * 1.5))
        const [again] = yield* claimAll()
        yield* check.equal(again?.entry.attempts, 1, "claimable when due, attempts kept")
      })
  },
  {
    name: "an expired lease lets another worker claim the row, and the first worker's late result is refused",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const short = expiryOf(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [first] = yield* claimAll("slow", 100, short)
        yield* check.equal((yield* claimAll("fast", 100, short)).length, 0, "leased")
        yield* harness.advance(Duration.times(short, 1.5))
        const [second] = yield* claimAll("fast", 100, short)
        yield* check.equal(second?.entry.outbox_id, first!.entry.outbox_id, "taken over after expiry")
        yield* check.that(tokenOf(second!) !== tokenOf(first!), "a new fencing token")
        const late = yield* queue.complete([
          Completion.Delivered({ outboxId: first!.entry.outbox_id, token: tokenOf(first!) })
        ])
        yield* check.equal(late, { applied: [], rejected: [first!.entry.outbox_id] }, "late result refused")
        const entry = yield* entryOf(first!.entry.outbox_id)
        yield* check.equal([entry.status, entry.attempts], ["pending", 0], "no attempt counted for the refused result")
        const ok = yield* queue.complete([
          Completion.Retry({
            outboxId: second!.entry.outbox_id,
            token: tokenOf(second!),
            error: "boom",
            delayMs: 0
          })
        ])
        yield* check.equal(ok.applied, [second!.entry.outbox_id], "the current holder's result applies")
      })
  },
  {
    name: "a result recorded after the lease expired is refused even if nobody took the row",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const short = expiryOf(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll("w1", 100, short)
        yield* harness.advance(Duration.times(short, 1.5))
        const report = yield* queue.complete([
          Completion.Delivered({ outboxId: claimed!.entry.outbox_id, token: tokenOf(claimed!) })
        ])
        yield* check.equal(report.rejected, [claimed!.entry.outbox_id], "refused")
      })
  },
  {
    name: "release gives rows back at once without counting an attempt",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        const claimed = yield* claimAll()
        yield* queue.complete(
          claimed.map((c) => Completion.Release({ outboxId: c.entry.outbox_id, token: tokenOf(c) }))
        )
        const again = yield* claimAll("w2")
        yield* check.equal(
          again.map((c) => [c.entry.outbox_id, c.entry.attempts]),
          claimed.map((c) => [c.entry.outbox_id, 0]),
          "reclaimed"
        )
      })
  },
  {
    name: "results for unknown rows or wrong tokens are refused, the others applied",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        const [a, b] = yield* claimAll()
        const report = yield* queue.complete([
          Completion.Delivered({ outboxId: a!.entry.outbox_id, token: tokenOf(a!) }),
          Completion.Delivered({ outboxId: b!.entry.outbox_id, token: "not-the-token" }),
          Completion.Delivered({ outboxId: "999999999" as OutboxId, token: "x" })
        ])
        yield* check.equal(report.applied, [a!.entry.outbox_id], "applied")
        yield* check.equal([...report.rejected].sort(), [b!.entry.outbox_id, "999999999"].sort(), "rejected")
      })
  },
  {
    name: "ordered routes: an entity's later row waits for its earlier one; other entities are not blocked",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const a1 = makeEvent({ entity_id: "A" })
        const a2 = makeEvent({ entity_id: "A" })
        const b1 = makeEvent({ entity_id: "B" })
        yield* store.append(yield* makeBatch([a1, a2, b1], ["ordered"], { ordered: true }))
        const first = yield* claimAll()
        yield* check.equal(
          first.map((c) => c.event.event_id),
          [a1.event_id, b1.event_id],
          "heads only"
        )
        yield* check.equal((yield* claimAll("w2")).length, 0, "A's second row waits while A's first is leased")
        const a1Claim = first[0]!
        yield* queue.complete([
          Completion.Dead({ outboxId: a1Claim.entry.outbox_id, token: tokenOf(a1Claim), error: "gave up" })
        ])
        const next = yield* claimAll("w2")
        yield* check.equal(
          next.map((c) => c.event.event_id),
          [a2.event_id],
          "after the head is settled, the next row goes"
        )
      })
  },
  {
    name: "ordered routes: a retrying head holds its entity back",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const a1 = makeEvent({ entity_id: "A" })
        const a2 = makeEvent({ entity_id: "A" })
        yield* store.append(yield* makeBatch([a1, a2], ["ordered"], { ordered: true }))
        const [head] = yield* claimAll()
        yield* queue.complete([
          Completion.Retry({
            outboxId: head!.entry.outbox_id,
            token: tokenOf(head!),
            error: "503",
            delayMs: 60_000
          })
        ])
        yield* check.equal((yield* claimAll()).length, 0, "a2 waits for a1's retry")
      })
  },
  {
    name: "waitForWork returns when rows are appended, and after maxWait otherwise",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const waiter = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* Effect.yieldNow
        yield* harness.advance(Duration.millis(50))
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* ended(harness, waiter, "woken by the append")
        const idle = yield* Effect.forkChild(queue.waitForWork(Duration.millis(200)))
        yield* harness.advance(Duration.millis(200))
        yield* ended(harness, idle, "back after maxWait")
      })
  },
  {
    // A relay is busy claiming when rows arrive; the signal must wait for it, not be lost.
    name: "waitForWork returns at once after an append that came while nobody waited, and only once",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        // Use up whatever the setup signalled, so the next append's signal is the only one kept.
        yield* settleSignals(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* harness.advance(Duration.millis(100))
        const first = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* ended(harness, first, "the kept signal ends the wait at once")
        const second = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* check.that(second.pollUnsafe() === undefined, "a kept signal is used once")
        yield* Fiber.interrupt(second)
      })
  },
  {
    name: "waitForWork: a delivery on an unordered route wakes nobody; a release does",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        yield* settleSignals(harness)
        const [a, b] = yield* claimAll("w", 2)
        const waiter = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* queue.complete([Completion.Delivered({ outboxId: a!.entry.outbox_id, token: tokenOf(a!) })])
        yield* harness.advance(Duration.millis(50))
        yield* check.that(waiter.pollUnsafe() === undefined, "still waiting after a delivery")
        yield* queue.complete([Completion.Release({ outboxId: b!.entry.outbox_id, token: tokenOf(b!) })])
        yield* ended(harness, waiter, "woken by the release")
      })
  },
  {
    name: "waitForWork: a retry wakes a waiter, and so does a delivery that unblocks an ordered entity",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        yield* store.append(yield* makeBatch([makeEvent()]))
        const first = makeEvent({ entity_id: "ordered-entity" })
        const second = makeEvent({ entity_id: "ordered-entity" })
        yield* store.append(yield* makeBatch([first, second], ["ordered"], { ordered: true }))
        yield* settleSignals(harness)
        const claimed = yield* claimAll("w", 10)
        const plain = claimed.find((c) => c.entry.route === "default")!
        const head = claimed.find((c) => c.entry.route === "ordered")!
        yield* check.equal(claimed.length, 2, "the ordered entity's second event waits for its first")
        const afterRetry = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* queue.complete([
          Completion.Retry({ outboxId: plain.entry.outbox_id, token: tokenOf(plain), error: "503", delayMs: 0 })
        ])
        yield* ended(harness, afterRetry, "woken by the retry")
        const afterOrdered = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* queue.complete([Completion.Delivered({ outboxId: head.entry.outbox_id, token: tokenOf(head) })])
        yield* ended(harness, afterOrdered, "woken by the delivery that frees the entity")
      })
  },
  ...StorableTextContract.outboxCases
]
