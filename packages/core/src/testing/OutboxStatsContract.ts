/**
 * The EventStore contract's outbox cases on wake-ups (waitForWork), stats, purge and backlog. Part of
 * `EventStoreContract.cases`, with OutboxContract.ts (claims, results, ordered routes).
 */
import { DateTime, Duration, Effect, Fiber, Option } from "effect"
import { Completion, EventStore } from "../EventStore.ts"
import { type ContractCase, claimAll, ended, lease, settleSignals, tokenOf } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "waitForWork returns when rows are appended, and after maxWait otherwise",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const waiter = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* Effect.yieldNow
        yield* harness.advance(Duration.millis(50))
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* ended(harness, waiter, "woken by the append")
        const idle = yield* Effect.forkChild(store.waitForWork(Duration.millis(200)))
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
        // Use up whatever the setup signalled, so the next append's signal is the only one kept.
        yield* settleSignals(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* harness.advance(Duration.millis(100))
        const first = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* ended(harness, first, "the kept signal ends the wait at once")
        const second = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
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
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        yield* settleSignals(harness)
        const [a, b] = yield* claimAll("w", 2)
        const waiter = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* store.complete([Completion.Delivered({ outbox_id: a!.entry.outbox_id, token: tokenOf(a!) })])
        yield* harness.advance(Duration.millis(50))
        yield* check.that(waiter.pollUnsafe() === undefined, "still waiting after a delivery")
        yield* store.complete([Completion.Release({ outbox_id: b!.entry.outbox_id, token: tokenOf(b!) })])
        yield* ended(harness, waiter, "woken by the release")
      })
  },
  {
    name: "waitForWork: a retry wakes a waiter, and so does a delivery that unblocks an ordered entity",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()]))
        const first = makeEvent({ entity_id: "ordered-entity" })
        const second = makeEvent({ entity_id: "ordered-entity" })
        yield* store.append(yield* makeBatch([first, second], ["ordered"], { ordered: true }))
        yield* settleSignals(harness)
        const claimed = yield* claimAll("w", 10)
        const plain = claimed.find((c) => c.entry.route === "default")!
        const head = claimed.find((c) => c.entry.route === "ordered")!
        yield* check.equal(claimed.length, 2, "the ordered entity's second event waits for its first")
        const afterRetry = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* store.complete([
          Completion.Retry({ outbox_id: plain.entry.outbox_id, token: tokenOf(plain), error: "503", delay_ms: 0 })
        ])
        yield* ended(harness, afterRetry, "woken by the retry")
        const afterOrdered = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* store.complete([Completion.Delivered({ outbox_id: head.entry.outbox_id, token: tokenOf(head) })])
        yield* ended(harness, afterOrdered, "woken by the delivery that frees the entity")
      })
  },
  {
    name: "stats count pending, leased, delivered and dead per route, with the oldest pending time",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()], ["r"]))
        const [a, b] = yield* claimAll("w", 2)
        yield* store.complete([
          Completion.Delivered({ outbox_id: a!.entry.outbox_id, token: tokenOf(a!) }),
          Completion.Dead({ outbox_id: b!.entry.outbox_id, token: tokenOf(b!), error: "x" })
        ])
        const stats = yield* store.stats
        yield* check.equal([stats.pending, stats.leased, stats.delivered, stats.dead], [1, 0, 1, 1], "totals")
        yield* check.equal(stats.by_route.r?.pending, 1, "per route")
        yield* check.that(stats.oldest_pending_at !== null, "oldest pending time")
      })
  },
  {
    name: "purgeDead deletes dead rows (one route's, or all) and nothing else; the events stay",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const events = [makeEvent(), makeEvent(), makeEvent()]
        const batch = yield* makeBatch(events, ["a", "b"])
        yield* store.append(batch)
        const claimed = yield* store.claim({ owner: "w", limit: 6, lease })
        // Dead: every row of the first two events; the third event's rows are delivered.
        yield* store.complete(
          claimed.map((c) =>
            c.event.event_id === events[2]!.event_id
              ? Completion.Delivered({ outbox_id: c.entry.outbox_id, token: tokenOf(c) })
              : Completion.Dead({ outbox_id: c.entry.outbox_id, token: tokenOf(c), error: "x" })
          )
        )
        yield* check.equal(yield* store.purgeDead({ route: "a" }), 2, "route a's dead rows")
        yield* check.equal(
          (yield* store.listOutbox({ status: "dead" })).map((e) => e.route),
          ["b", "b"],
          "route b's dead rows are left"
        )
        yield* check.equal(yield* store.purgeDead({}), 2, "the rest")
        yield* check.equal(yield* store.purgeDead({}), 0, "nothing left to purge")
        const left = yield* store.listOutbox({})
        yield* check.equal(
          left.map((e) => [e.status, e.route]),
          [
            ["delivered", "a"],
            ["delivered", "b"]
          ],
          "delivered rows untouched"
        )
        yield* check.that(Option.isSome(yield* store.getEvent(events[0]!.event_id)), "the event stays")
        const again = yield* store.append(batch)
        yield* check.equal([again.appended.length, again.outbox_rows], [0, 0], "appending it again is a duplicate")
      })
  },
  {
    name: "backlog counts pending, leased and dead rows per route as stats does, and leaves out delivered-only routes",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        // Route a: one delivered, one dead, one leased, one pending. Route b: one delivered only.
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent(), makeEvent()], ["a"]))
        yield* store.append(yield* makeBatch([makeEvent()], ["b"]))
        const b = yield* store.claim({ owner: "w", limit: 10, lease, routes: ["b"] })
        const a = yield* store.claim({ owner: "w", limit: 3, lease, routes: ["a"] })
        yield* store.complete([
          Completion.Delivered({ outbox_id: b[0]!.entry.outbox_id, token: tokenOf(b[0]!) }),
          Completion.Delivered({ outbox_id: a[0]!.entry.outbox_id, token: tokenOf(a[0]!) }),
          Completion.Dead({ outbox_id: a[1]!.entry.outbox_id, token: tokenOf(a[1]!), error: "x" })
        ])
        const backlog = yield* store.backlog
        const stats = yield* store.stats
        const counts = (s: { pending: number; leased: number; dead: number }) => [s.pending, s.leased, s.dead]
        yield* check.equal(counts(backlog), [2, 1, 1], "totals: pending, leased, dead")
        yield* check.equal(counts(backlog), counts(stats), "the same totals as stats")
        yield* check.equal(Object.keys(backlog.by_route), ["a"], "only routes with undelivered rows")
        yield* check.equal(counts(backlog.by_route.a!), counts(stats.by_route.a!), "route a as stats counts it")
        yield* check.equal(
          backlog.oldest_pending_at === null ? null : DateTime.toEpochMillis(backlog.oldest_pending_at),
          stats.oldest_pending_at === null ? null : DateTime.toEpochMillis(stats.oldest_pending_at),
          "oldest pending time as stats"
        )
        yield* check.that(backlog.oldest_pending_at !== null, "there is a pending row")
      })
  }
]
