/**
 * The README's subscription example in memory: it prints what was appended before it started and
 * what is appended while it runs, and after a restart only what came since its checkpoint.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, layerMemory, Subscription, SubscriptionStore } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { type Duration, Effect, Exit, Fiber, Option, Scope } from "effect"
import { TestClock, TestConsole } from "effect/testing"
import { auditTrail } from "./subscription.ts"

const append = (entity_id: string) =>
  EventStore.use((store) => store.append({ raw: null, events: [makeEvent({ entity_id })], outbox: [] }))

/** Lets the subscription's fiber run (it is woken by each append). */
const settle = TestClock.adjust("10 millis")

describe("README subscription example", () => {
  it.effect("catches up, follows appends, and resumes after its checkpoint when restarted", () =>
    Effect.gen(function* () {
      yield* append("ACME")
      const first = yield* Scope.make()
      yield* auditTrail.pipe(Scope.provide(first))
      yield* settle
      yield* append("GLOBEX")
      yield* settle
      yield* Scope.close(first, Exit.void)
      yield* append("INITECH")
      yield* auditTrail
      yield* settle
      expect(yield* TestConsole.logLines).toEqual([
        "test.happened ACME",
        "test.happened GLOBEX",
        "test.happened INITECH"
      ])
    }).pipe(Effect.provide(layerMemory))
  )

  // The README: "Closing the scope stops it (the batch in flight may finish within `gracePeriod`)".
  const stopMidBatch = (gracePeriod: Duration.Input) =>
    Effect.gen(function* () {
      let finished = false
      const handle = () =>
        Effect.sleep("5 seconds").pipe(
          Effect.andThen(
            Effect.sync(() => {
              finished = true
            })
          )
        )
      yield* append("ACME")
      const scope = yield* Scope.make()
      yield* Subscription.start({ name: "slow", handle, gracePeriod }).pipe(Scope.provide(scope))
      yield* settle // the batch is in flight, sleeping
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(closing)
      const checkpoint = yield* SubscriptionStore.use((store) => store.loadCheckpoint("slow"))
      return { finished, checkpointed: Option.isSome(checkpoint) }
    })

  it.effect("closing its scope lets the batch in flight finish within gracePeriod, and checkpoints it", () =>
    Effect.gen(function* () {
      expect(yield* stopMidBatch("10 seconds")).toEqual({ finished: true, checkpointed: true })
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a batch still running after gracePeriod is interrupted, its checkpoint unsaved", () =>
    Effect.gen(function* () {
      expect(yield* stopMidBatch("1 second")).toEqual({ finished: false, checkpointed: false })
    }).pipe(Effect.provide(layerMemory))
  )
})
