import { assert, describe, it } from "@effect/vitest"
import { Clock, Context, Duration, Effect, Exit, Fiber, Layer, Scope } from "effect"
import { EventStore } from "../src/EventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import { makeHeldClock } from "../src/testing/HeldClock.ts"
import { eventStoreSuite, rawPayloadSuite } from "../vitest/index.ts"

eventStoreSuite("memory", layerMemory)
rawPayloadSuite("memory", layerMemory)

describe("layerMemory", () => {
  // A woken waitForWork leaves its timer to the next wait (WorkSignal); with no next wait, the
  // store's scope stops it, or it would run out its maxWait after the store is gone.
  it.effect("closing it stops the timer a woken relay wait left", () => {
    const held = makeHeldClock()
    return Effect.gen(function* () {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(layerMemory, scope)
      const queue = Context.get(context, OutboxQueue)
      const waiting = yield* Effect.forkChild(queue.waitForWork(Duration.hours(1)))
      yield* Effect.yieldNow
      assert.strictEqual(held.pending(), 1)
      yield* Context.get(context, EventStore).append(yield* makeBatch([makeEvent()]))
      yield* Fiber.join(waiting)
      assert.strictEqual(held.pending(), 1, "left to the next wait")
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(held.pending(), 0)
    }).pipe(Effect.provideService(Clock.Clock, held.clock))
  })
})
