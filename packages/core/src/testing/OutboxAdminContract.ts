/**
 * The OutboxAdmin contract: what every adapter (memory, PGlite, PostgreSQL) must do for operators:
 * list the outbox, count it (stats, backlog), replay and purge dead letters. Rows are made with
 * `EventStore.append` and settled through OutboxQueue: a store provides all three. Each case needs a
 * fresh, empty store.
 */
import { DateTime, Duration, Effect, Option } from "effect"
import { EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { Completion, OutboxQueue } from "../OutboxQueue.ts"
import { type ContractCase, claimAll, ended, entryOf, lease, settleSignals, tokenOf } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"
import { cases as routePauseCases } from "./RoutePauseCases.ts"

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "dead: the row stops with its reason; replay makes it pending with attempts reset",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        const event = makeEvent({ event_type: "test.dead" })
        yield* store.append(yield* makeBatch([event, makeEvent()]))
        const claimed = yield* claimAll()
        const target = claimed.find((c) => c.event.event_id === event.event_id)!
        yield* queue.complete([
          Completion.Dead({ outboxId: target.entry.outbox_id, token: tokenOf(target), error: "permanent: 400" })
        ])
        const dead = yield* admin.listOutbox({ status: "dead" })
        yield* check.equal(
          dead.map((d) => [d.outbox_id, d.last_error, d.attempts]),
          [[target.entry.outbox_id, "permanent: 400", 1]],
          "dead list"
        )
        yield* check.equal((yield* admin.stats).dead, 1, "stats count the dead row")
        yield* check.equal(yield* admin.replay({ eventType: "test.other" }), 0, "filter matches nothing")
        yield* check.equal(yield* admin.replay({ eventType: "test.dead" }), 1, "replayed one")
        const replayed = yield* entryOf(target.entry.outbox_id)
        yield* check.equal(
          [replayed.status, replayed.attempts, replayed.replays, replayed.last_error],
          ["pending", 0, 1, "permanent: 400"],
          "replayed row keeps its history"
        )
        yield* check.equal(yield* admin.replay({ outboxIds: [target.entry.outbox_id] }), 0, "not dead any more")
      })
  },
  {
    name: "replay wakes a relay waiting for work",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll()
        yield* queue.complete([
          Completion.Dead({ outboxId: claimed!.entry.outbox_id, token: tokenOf(claimed!), error: "x" })
        ])
        yield* settleSignals(harness)
        const waiter = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* check.that(waiter.pollUnsafe() === undefined, "waiting while the row is dead")
        yield* check.equal(yield* admin.replay({}), 1, "replayed")
        yield* ended(harness, waiter, "woken by the replay")
        yield* check.equal((yield* claimAll()).length, 1, "the replayed row is claimable")
      })
  },
  {
    name: "listOutbox pages rows in id order, filtered by status, route and ids",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()], ["a", "b"]))
        const all = yield* admin.listOutbox({})
        const ids = all.map((e) => e.outbox_id)
        yield* check.equal(all.length, 6, "every row")
        yield* check.equal(
          ids.map(Number),
          [...ids].map(Number).sort((x, y) => x - y),
          "in id order"
        )
        const first = yield* admin.listOutbox({ limit: 2 })
        const next = yield* admin.listOutbox({ limit: 2, after: first.at(-1)!.outbox_id })
        yield* check.equal(
          [...first, ...next].map((e) => e.outbox_id),
          ids.slice(0, 4),
          "pages of two, after the last id"
        )
        yield* check.equal(
          (yield* admin.listOutbox({ route: "b" })).map((e) => e.route),
          ["b", "b", "b"],
          "one route's rows"
        )
        yield* check.equal(
          (yield* admin.listOutbox({ outboxIds: [ids[4]!, ids[1]!] })).map((e) => e.outbox_id),
          [ids[1]!, ids[4]!],
          "the rows asked for, in id order"
        )
        const [claimed] = yield* queue.claim({ owner: "w", limit: 1, lease })
        yield* queue.complete([Completion.Delivered({ outboxId: claimed!.entry.outbox_id, token: tokenOf(claimed!) })])
        yield* check.equal(
          (yield* admin.listOutbox({ status: "delivered" })).map((e) => e.outbox_id),
          [claimed!.entry.outbox_id],
          "by status"
        )
        const route = claimed!.entry.route
        yield* check.equal((yield* admin.listOutbox({ status: "pending", route })).length, 2, "filters combine")
      })
  },
  {
    name: "stats count pending, leased, delivered and dead per route, with the oldest pending time",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()], ["r"]))
        const [a, b] = yield* claimAll("w", 2)
        yield* queue.complete([
          Completion.Delivered({ outboxId: a!.entry.outbox_id, token: tokenOf(a!) }),
          Completion.Dead({ outboxId: b!.entry.outbox_id, token: tokenOf(b!), error: "x" })
        ])
        const stats = yield* admin.stats
        yield* check.equal([stats.pending, stats.leased, stats.delivered, stats.dead], [1, 0, 1, 1], "totals")
        yield* check.equal(stats.byRoute.r?.pending, 1, "per route")
        yield* check.that(stats.oldestPendingAt !== null, "oldest pending time")
      })
  },
  {
    name: "purgeDead deletes dead rows (one route's, or all) and nothing else; the events stay",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        const events = [makeEvent(), makeEvent(), makeEvent()]
        const batch = yield* makeBatch(events, ["a", "b"])
        yield* store.append(batch)
        const claimed = yield* queue.claim({ owner: "w", limit: 6, lease })
        // Dead: every row of the first two events; the third event's rows are delivered.
        yield* queue.complete(
          claimed.map((c) =>
            c.event.event_id === events[2]!.event_id
              ? Completion.Delivered({ outboxId: c.entry.outbox_id, token: tokenOf(c) })
              : Completion.Dead({ outboxId: c.entry.outbox_id, token: tokenOf(c), error: "x" })
          )
        )
        yield* check.equal(yield* admin.purgeDead({ route: "a" }), 2, "route a's dead rows")
        yield* check.equal(
          (yield* admin.listOutbox({ status: "dead" })).map((e) => e.route),
          ["b", "b"],
          "route b's dead rows are left"
        )
        yield* check.equal(yield* admin.purgeDead({}), 2, "the rest")
        yield* check.equal(yield* admin.purgeDead({}), 0, "nothing left to purge")
        const left = yield* admin.listOutbox({})
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
        yield* check.equal([again.appended.length, again.outboxRows], [0, 0], "appending it again is a duplicate")
      })
  },
  {
    name: "backlog counts pending, leased and dead rows per route as stats does, and leaves out delivered-only routes",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        // Route a: one delivered, one dead, one leased, one pending. Route b: one delivered only.
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent(), makeEvent()], ["a"]))
        yield* store.append(yield* makeBatch([makeEvent()], ["b"]))
        const b = yield* queue.claim({ owner: "w", limit: 10, lease, routes: ["b"] })
        const a = yield* queue.claim({ owner: "w", limit: 3, lease, routes: ["a"] })
        yield* queue.complete([
          Completion.Delivered({ outboxId: b[0]!.entry.outbox_id, token: tokenOf(b[0]!) }),
          Completion.Delivered({ outboxId: a[0]!.entry.outbox_id, token: tokenOf(a[0]!) }),
          Completion.Dead({ outboxId: a[1]!.entry.outbox_id, token: tokenOf(a[1]!), error: "x" })
        ])
        const backlog = yield* admin.backlog
        const stats = yield* admin.stats
        const counts = (s: { pending: number; leased: number; dead: number }) => [s.pending, s.leased, s.dead]
        yield* check.equal(counts(backlog), [2, 1, 1], "totals: pending, leased, dead")
        yield* check.equal(counts(backlog), counts(stats), "the same totals as stats")
        yield* check.equal(Object.keys(backlog.byRoute), ["a"], "only routes with undelivered rows")
        yield* check.equal(counts(backlog.byRoute.a!), counts(stats.byRoute.a!), "route a as stats counts it")
        yield* check.equal(
          backlog.oldestPendingAt === null ? null : DateTime.toEpochMillis(backlog.oldestPendingAt),
          stats.oldestPendingAt === null ? null : DateTime.toEpochMillis(stats.oldestPendingAt),
          "oldest pending time as stats"
        )
        yield* check.that(backlog.oldestPendingAt !== null, "there is a pending row")
      })
  },
  ...routePauseCases
]
