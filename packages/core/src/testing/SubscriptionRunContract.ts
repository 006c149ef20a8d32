/**
 * `Subscription` on a store: catch-up in batches from the checkpoint, live follow, restart, retry,
 * transactional batches, reset. Run with SubscriptionContract.ts by `subscriptionSuite`.
 */
import { Duration, Effect, Exit, Option, Scope } from "effect"
import type { EventId } from "../Event.ts"
import { EventStore } from "../EventStore.ts"
import * as LogPosition from "../LogPosition.ts"
import * as Subscription from "../Subscription.ts"
import { type LoggedEvent, SubscriptionStore } from "../SubscriptionStore.ts"
import * as check from "./check.ts"
import { makeEvent } from "./fixtures.ts"
import { appendEvents, eventually, type SubscriptionCase, visible } from "./SubscriptionContract.ts"

/** Short, so that a case on real time waits out a poll quickly. */
const pollInterval = Duration.millis(50)

const checkpointOf = (name: string) =>
  SubscriptionStore.use((store) => store.loadCheckpoint(name)).pipe(
    Effect.map(Option.map((c) => c.position)),
    Effect.map(Option.getOrNull)
  )

/** A handler that records each batch's event ids. */
const recorder = () => {
  const batches: Array<ReadonlyArray<EventId>> = []
  const handle = (events: ReadonlyArray<LoggedEvent>) =>
    Effect.sync(() => void batches.push(events.map((e) => e.event.event_id)))
  return { batches, seen: () => batches.flat(), handle }
}

export const cases: ReadonlyArray<SubscriptionCase> = [
  {
    name: "catchUp handles every event after the checkpoint in batches, saving the checkpoint after each",
    run: (harness) =>
      Effect.gen(function* () {
        const first = [makeEvent(), makeEvent(), makeEvent(), makeEvent(), makeEvent()]
        yield* appendEvents(first)
        const all = yield* visible(harness, LogPosition.start, 5)
        const r = recorder()
        const options = { name: "catch-up", batchSize: 2, handle: r.handle }
        const report = yield* Subscription.catchUp(options)
        yield* check.equal(
          r.batches,
          [first.slice(0, 2), first.slice(2, 4), first.slice(4)].map((b) => b.map((e) => e.event_id)),
          "three batches, in log order"
        )
        yield* check.equal(report, { events: 5, batches: 3, position: all[4]!.log_position }, "the report")
        yield* check.equal(yield* checkpointOf("catch-up"), all[4]!.log_position, "checkpoint at the last event")
        const more = [makeEvent(), makeEvent()]
        yield* appendEvents(more)
        yield* visible(harness, LogPosition.start, 7)
        yield* Subscription.catchUp(options)
        yield* check.equal(
          r.batches.slice(3),
          [more.map((e) => e.event_id)],
          "a second run starts after the checkpoint"
        )
        const idle = yield* Subscription.catchUp(options)
        yield* check.equal([idle.events, idle.batches], [0, 0], "nothing new: no batch")
      })
  },
  {
    name: "start follows live appends and, restarted, resumes after its checkpoint",
    run: (harness) =>
      Effect.gen(function* () {
        const r = recorder()
        const e = [makeEvent(), makeEvent(), makeEvent(), makeEvent()]
        const options = { name: "live", handle: r.handle, pollInterval }
        const first = yield* Scope.make()
        yield* Subscription.start(options).pipe(Scope.provide(first))
        yield* appendEvents([e[0]!])
        yield* eventually(
          harness,
          Effect.sync(() => r.seen().length === 1),
          "the first live event"
        )
        yield* EventStore.use((store) => store.transaction(appendEvents([e[1]!])))
        yield* eventually(
          harness,
          Effect.sync(() => r.seen().length === 2),
          "an event appended in a transaction"
        )
        yield* Scope.close(first, Exit.void)
        yield* appendEvents([e[2]!, e[3]!])
        yield* Subscription.start(options)
        yield* eventually(
          harness,
          Effect.sync(() => r.seen().length >= 4),
          "the events appended while it was stopped"
        )
        yield* check.equal(
          r.seen(),
          e.map((x) => x.event_id),
          "each event once, in order, across the restart"
        )
      })
  },
  {
    name: "a failed batch is retried: at-least-once for a plain handler",
    run: (harness) =>
      Effect.gen(function* () {
        const e = makeEvent()
        const calls: Array<ReadonlyArray<EventId>> = []
        yield* appendEvents([e])
        yield* Subscription.start({
          name: "flaky",
          pollInterval,
          handle: (events) =>
            Effect.suspend(() => {
              calls.push(events.map((x) => x.event.event_id))
              return calls.length === 1 ? Effect.fail("receiver down" as const) : Effect.void
            })
        })
        yield* eventually(
          harness,
          Effect.sync(() => calls.length >= 2),
          "the retry"
        )
        yield* eventually(
          harness,
          Effect.map(checkpointOf("flaky"), (p) => p !== null),
          "the checkpoint after the retry succeeded"
        )
        yield* check.equal(calls.slice(0, 2), [[e.event_id], [e.event_id]], "the same batch twice")
      })
  },
  {
    name: "a transactional batch whose handler fails rolls back the handler's writes and the checkpoint",
    run: (harness) =>
      Effect.gen(function* () {
        const source = makeEvent({ event_type: "test.source" })
        yield* appendEvents([source])
        yield* visible(harness, LogPosition.start, 1)
        let attempts = 0
        // The handler writes through the store: its append is the read model's write here.
        const options = {
          name: "tx",
          transactional: true,
          handle: (events: ReadonlyArray<LoggedEvent>) =>
            Effect.gen(function* () {
              attempts++
              const derived = events
                .filter((x) => x.event.event_type === "test.source")
                .map((x) => makeEvent({ event_type: "test.derived", key: `derived-${x.event.event_id}` }))
              const result = yield* appendEvents(derived)
              if (attempts === 1) return yield* Effect.fail("handler failed" as const)
              return result
            })
        }
        const failed = yield* Effect.flip(Subscription.catchUp(options))
        yield* check.equal(failed, "handler failed", "catchUp fails with the handler's error")
        yield* check.equal(yield* checkpointOf("tx"), null, "no checkpoint")
        const log = yield* SubscriptionStore.use((s) => s.readAll(LogPosition.start, 10))
        yield* check.equal(
          log.map((x) => x.event.event_type),
          ["test.source"],
          "the handler's write rolled back"
        )
        yield* Subscription.catchUp(options)
        const after = yield* visible(harness, LogPosition.start, 2)
        yield* check.equal(
          after.map((x) => x.event.event_type),
          ["test.source", "test.derived"],
          "written once when the batch commits"
        )
        yield* check.equal(yield* checkpointOf("tx"), after[0]!.log_position, "checkpoint with it")
      })
  },
  {
    name: "a reset checkpoint makes a running subscription start over, without a new event",
    run: (harness) =>
      Effect.gen(function* () {
        const r = recorder()
        const e = [makeEvent(), makeEvent()]
        yield* appendEvents(e)
        yield* Subscription.start({ name: "rebuilt", handle: r.handle, pollInterval, transactional: true })
        yield* eventually(
          harness,
          Effect.sync(() => r.seen().length === 2),
          "the first pass"
        )
        yield* eventually(
          harness,
          Effect.map(checkpointOf("rebuilt"), (p) => p !== null),
          "its checkpoint"
        )
        yield* SubscriptionStore.use((s) => s.resetCheckpoint("rebuilt"))
        yield* eventually(
          harness,
          Effect.sync(() => r.seen().length >= 4),
          "the second pass"
        )
        const ids = e.map((x) => x.event_id)
        yield* check.equal(r.seen().slice(0, 4), [...ids, ...ids], "the log again from the start")
      })
  }
]
