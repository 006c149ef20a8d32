/**
 * The source on the in-memory store, as the runner uses it (through its Plugin), with TestClock
 * driving time: no database, no waiting, exact results.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, Ingest, layerMemory, makeRouterUnsafe, Pipeline, Sources } from "@sluice/core"
import { MemoryTransport } from "@sluice/core/testing"
import { DateTime, Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { ExampleSourcePlugin, make } from "../src/index.ts"

/** The store, a transport to route to, and the plugin instance `things` registered like the runner does. */
const layers = Layer.mergeAll(
  layerMemory,
  MemoryTransport.MemoryTransport.layer("out"),
  ExampleSourcePlugin.layer({ items: ["a", "b"], pollInterval: "1 minute" }, "things").pipe(
    Layer.provideMerge(Sources.layer)
  )
)

describe("example-source", () => {
  it.effect("ticks at once, then every pollInterval: one event per item and tick, stored and delivered", () =>
    Effect.gen(function* () {
      const pipeline = yield* Pipeline.make({
        routes: [{ name: "all", transport: "out", topic: "items", match: ["item.observed"] }],
        relay: { pollInterval: "1 second" }
      })
      yield* Pipeline.start(pipeline)
      yield* TestClock.adjust("2 minutes")
      const store = yield* EventStore
      const events = (yield* store.readEvents(0, 100)).map(({ event }) => ({
        id: event.entity_id,
        at: DateTime.formatIso(event.occurred_at)
      }))
      expect(events).toEqual(
        ["00:00", "01:00", "02:00"].flatMap((time) => [
          { id: "a", at: `1970-01-01T00:${time}.000Z` },
          { id: "b", at: `1970-01-01T00:${time}.000Z` }
        ])
      )
      yield* TestClock.adjust("1 second")
      const delivered = yield* (yield* MemoryTransport.MemoryTransport).delivered
      expect(delivered.map((envelope) => envelope.event.entity_id)).toEqual(["a", "b", "a", "b", "a", "b"])
    }).pipe(Effect.provide(layers))
  )

  it.effect("fetching the same data again stores nothing new", () =>
    Effect.gen(function* () {
      const source = yield* make({ items: ["a", "b"] }, "things")
      const router = makeRouterUnsafe([])
      const first = yield* Ingest.tick(source, router)
      const again = yield* Ingest.tick(source, router)
      expect(first.payloads.map((p) => [p.appended, p.duplicates])).toEqual([[2, 0]])
      expect(again.payloads.map((p) => [p.appended, p.duplicates])).toEqual([[0, 2]])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("bad options are refused, naming the field", () =>
    Effect.gen(function* () {
      const layer = ExampleSourcePlugin.layer({ items: [] }).pipe(Layer.provide(Sources.layer))
      const error = yield* Effect.flip(Layer.build(layer))
      expect(error.message).toContain('at ["items"]')
    })
  )
})
