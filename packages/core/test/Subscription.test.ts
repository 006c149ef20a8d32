import { assert, describe, it } from "@effect/vitest"
import { Cause, type Duration, Effect, Exit, Metric } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../src/EventStore.ts"
import { InvalidSettingError } from "../src/InvalidSetting.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import * as Metrics from "../src/Metrics.ts"
import * as Subscription from "../src/Subscription.ts"
import { makeEvent } from "../src/testing/fixtures.ts"

const handle = () => Effect.void

/** The InvalidSettingError `start` dies with for these options. */
const refusal = (options: Subscription.SubscriptionOptions<never, never>) =>
  Subscription.start(options).pipe(
    Effect.scoped,
    Effect.provide(layerMemory),
    Effect.exit,
    Effect.map((exit) => (Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined))
  )

describe("Subscription metrics", () => {
  it.effect("counts the events of each checkpointed batch per subscription, and failed batches", () =>
    Effect.gen(function* () {
      yield* EventStore.use((store) =>
        store.append({ raw: null, events: [makeEvent(), makeEvent(), makeEvent()], outbox: [] })
      )
      yield* Subscription.catchUp({ name: "counted", batchSize: 2, handle })
      const handled = yield* Metric.value(Metrics.forSubscription(Metrics.subscriptionEvents, "counted"))
      assert.strictEqual(handled.count, 3)
      yield* Subscription.start({ name: "failing", pollInterval: "1 second", handle: () => Effect.fail("no") })
      yield* TestClock.adjust("2500 millis")
      const failed = yield* Metric.value(Metrics.forSubscription(Metrics.subscriptionBatchFailures, "failing"))
      assert.strictEqual(failed.count, 3, "a first try and two retries a second apart")
    }).pipe(Effect.provide(layerMemory))
  )
})

describe("Subscription options", () => {
  it.effect("options that cannot work are refused at once, naming the option", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<[Subscription.SubscriptionOptions<never, never>, string]> = [
        [{ name: "", handle }, "subscription option name: subscriber name"],
        [{ name: "x".repeat(201), handle }, "subscription option name"],
        [{ name: "p", handle, batchSize: 10_001 }, 'subscription "p" option batchSize: 10001 is over 10000'],
        [{ name: "p", handle, batchSize: Number.NaN }, 'subscription "p" option batchSize: NaN is not a finite number'],
        [
          { name: "p", handle, pollInterval: "0 millis" },
          'subscription "p" option pollInterval: "0 millis" is under 1 millisecond'
        ],
        [
          { name: "p", handle, gracePeriod: "soon" as Duration.Input },
          'subscription "p" option gracePeriod: "soon" is not a duration'
        ]
      ]
      for (const [options, message] of cases) {
        const defect = yield* refusal(options)
        assert.instanceOf(defect, InvalidSettingError)
        assert.include((defect as InvalidSettingError).message, message)
      }
    })
  )
})

// On the TestClock: a stop that waited out the poll interval would not have ended.
describe("Subscription stop", () => {
  it.effect(
    "stopping an idle subscription, or one pausing after a failed batch, does not wait for the poll interval",
    () =>
      Effect.gen(function* () {
        yield* EventStore.use((store) => store.append({ raw: null, events: [makeEvent()], outbox: [] }))
        const idle = yield* Subscription.start({ name: "idle", pollInterval: "1 hour", handle })
        const failing = yield* Subscription.start({
          name: "failing",
          pollInterval: "1 hour",
          handle: () => Effect.fail("no")
        })
        yield* TestClock.adjust("1 second")
        for (const subscription of [idle, failing]) {
          const stopping = yield* Effect.forkChild(subscription.stop)
          yield* TestClock.adjust("1 second")
          assert.isDefined(stopping.pollUnsafe())
        }
      }).pipe(Effect.scoped, Effect.provide(layerMemory))
  )
})
