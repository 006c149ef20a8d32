/**
 * The README's upcasting example in memory: a version 1 event is read and published as version 2,
 * and the stored row stays at version 1.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, layerMemory, makeRouterUnsafe, outboxDrafts, Relay, streamName, Upcasters } from "@sluice/core"
import { MemoryTransport, makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { tradeRoutes, upcasters } from "./upcasting.ts"

describe("README upcasting example", () => {
  it.effect("reads and publishes version 1 events as version 2; the stored row is unchanged", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const event = makeEvent({
        event_type: "position.bought",
        entity_type: "position",
        entity_id: "ACME",
        payload: { shares: 10 }
      })
      yield* store.append({ raw: null, events: [event], outbox: outboxDrafts(makeRouterUnsafe(tradeRoutes), [event]) })
      const acme = streamName("position", "ACME")
      const [read] = yield* Upcasters.readStream(acme)
      expect([read!.event.schema_version, read!.event.payload]).toEqual([2, { shares: 10, price: null }])
      yield* Relay.runOnce({ routes: tradeRoutes.map((r) => ({ ...r, transport: "memory" })) })
      const [published] = yield* MemoryTransport.MemoryTransport.use((m) => m.published)
      expect(published!.event.payload).toEqual({ shares: 10, price: null })
      const [stored] = yield* store.readStream(acme)
      expect([stored!.event.schema_version, stored!.event.payload]).toEqual([1, { shares: 10 }])
    }).pipe(Effect.provide([Layer.mergeAll(layerMemory, MemoryTransport.MemoryTransport.layer("memory")), upcasters]))
  )
})
