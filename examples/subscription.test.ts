/**
 * The README's subscription example in memory: it prints what was appended before it started and
 * what is appended while it runs, and after a restart only what came since its checkpoint.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, layerMemory } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { Effect, Exit, Scope } from "effect"
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
})
