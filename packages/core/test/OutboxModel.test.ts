/**
 * The outbox state machine on the memory store against the model (src/testing/OutboxModel.ts), on
 * the TestClock: an `advance` step moves it 0 to 2.25 s, a lease lasts 0.25 to 1 s, a retry waits 0
 * to 2.7 s, all in steps of 250 or 300 ms, so leases and retries run out in the middle of programs,
 * also exactly at a step (a lease is over at its expiry).
 */
import { describe, it } from "@effect/vitest"
import { Clock, Duration, Effect } from "effect"
import { TestClock } from "effect/testing"
import { layerMemory } from "../src/MemoryEventStore.ts"
import * as OutboxModel from "../src/testing/OutboxModel.ts"

const testClock: OutboxModel.ModelClock = {
  now: Clock.currentTimeMillis,
  advance: (b) => TestClock.adjust(Duration.millis(b * 250)),
  lease: (a) => Duration.millis(250 * (1 + (a % 4))),
  retryDelay: (b) => Duration.millis(b * 300)
}

describe("outbox state machine (model-based)", () => {
  it.effect.prop(
    "random operation sequences keep the store and the model in agreement",
    [OutboxModel.Program],
    ([program]) => OutboxModel.run(program, testClock).pipe(Effect.provide(layerMemory))
  )
})
