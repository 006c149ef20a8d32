// #region test
import { describe, expect, it } from "@effect/vitest"
import { EventStore, layerMemory } from "@sluice/core"
import { MemoryTransport } from "@sluice/core/testing"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { runDemo } from "./pipeline.ts"

describe("the example pipeline", () => {
  it.effect("delivers each price once per tick, and re-fetching the same prices adds nothing", () =>
    Effect.gen(function* () {
      const transport = yield* MemoryTransport.MemoryTransport
      const fiber = yield* Effect.forkChild(runDemo(2))
      yield* TestClock.adjust("3 seconds")
      const stats = yield* Fiber.join(fiber)
      const delivered = yield* transport.delivered
      expect(delivered.map((e) => e.event.entity_id)).toEqual(["ACME", "GLOBEX", "ACME", "GLOBEX"])
      expect(stats).toMatchObject({ delivered: 4, pending: 0, dead: 0 })
      expect((yield* (yield* EventStore).readEvents(0, 10)).length).toBe(4)
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.MemoryTransport.layer("stdout"))))
  )
})
// #endregion test
