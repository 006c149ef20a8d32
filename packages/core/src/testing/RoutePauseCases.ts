/**
 * The OutboxAdmin contract's route pauses (part of OutboxAdminContract's cases): a paused route's
 * rows are claimed by no relay until it is resumed, other routes go on, and resuming wakes a relay
 * waiting for work.
 */
import { Duration, Effect } from "effect"
import { EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { OutboxQueue } from "../OutboxQueue.ts"
import { type ContractCase, claimAll, ended, lease, settleSignals } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "a paused route's rows are not claimed until it is resumed; other routes go on",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        yield* check.equal(yield* admin.pausedRoutes, [], "nothing paused at first")
        yield* check.equal(yield* admin.pauseRoute("a", "receiver down"), true, "paused")
        yield* check.equal(yield* admin.pauseRoute("a", "again"), false, "already paused")
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()], ["a", "b"]))
        const first = yield* claimAll()
        yield* check.equal(
          first.map((c) => c.entry.route),
          ["b", "b"],
          "only route b's rows"
        )
        yield* check.equal(
          (yield* queue.claim({ owner: "w", limit: 10, lease, routes: ["a"] })).length,
          0,
          "not even when asked for by name"
        )
        const paused = yield* admin.pausedRoutes
        yield* check.equal(
          paused.map((p) => [p.route, p.reason]),
          [["a", "receiver down"]],
          "listed with its first reason"
        )
        yield* check.equal((yield* admin.backlog).byRoute.a?.pending, 2, "its rows wait, counted")
        yield* check.equal(yield* admin.resumeRoute("a"), true, "resumed")
        yield* check.equal(yield* admin.resumeRoute("a"), false, "not paused any more")
        yield* check.equal(yield* admin.resumeRoute("unknown"), false, "never paused")
        yield* check.equal(
          (yield* claimAll()).map((c) => c.entry.route),
          ["a", "a"],
          "route a's rows are claimed again"
        )
        yield* check.equal(yield* admin.pausedRoutes, [], "nothing paused")
      })
  },
  {
    name: "resuming a route wakes a relay waiting for work",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        yield* admin.pauseRoute("a")
        yield* store.append(yield* makeBatch([makeEvent()], ["a"]))
        yield* check.equal((yield* claimAll()).length, 0, "paused: nothing to claim")
        yield* settleSignals(harness)
        const waiter = yield* Effect.forkChild(queue.waitForWork(Duration.minutes(10)))
        yield* admin.resumeRoute("a")
        yield* ended(harness, waiter, "the waiter woke on resume")
        yield* check.equal((yield* claimAll()).length, 1, "and finds the row")
      })
  }
]
