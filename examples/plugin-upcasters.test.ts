/**
 * docs/writing-a-plugin.md's upcasters example in memory: events the plugin stored at version 1
 * and at version 2 are both read at version 2 with its upcasters, as `sluice run` registers them.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, Ingest, layerMemory, makeRouterUnsafe, streamName, Upcasters } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { ItemsPlugin } from "./plugin-upcasters.ts"

describe("writing-a-plugin upcasters example", () => {
  it.effect("a version 1 event stored before and a version 2 one emitted now both read at version 2", () =>
    Effect.gen(function* () {
      const old = makeEvent({
        event_type: "item.observed",
        entity_type: "item",
        entity_id: "a",
        payload: { item: "a", at: 0 }
      })
      yield* EventStore.use((store) => store.append({ raw: null, events: [old], outbox: [] }))
      const source = yield* ItemsPlugin.make({}, "items")
      yield* Effect.scoped(
        Ingest.ingestPayload(source, makeRouterUnsafe([]), {
          content_type: "application/json",
          body: JSON.stringify({ at: 60_000, items: ["a"] }),
          request: {}
        })
      )
      const read = yield* Upcasters.readStream(streamName("item", "a"))
      expect(read.map(({ event }) => [event.schema_version, event.payload])).toEqual([
        [2, { item: "a", at: 0, seen_by: null }],
        [2, { item: "a", at: 60_000, seen_by: "items" }]
      ])
    }).pipe(Effect.provide(Layer.merge(layerMemory, Upcasters.layer(ItemsPlugin.upcasters ?? []))))
  )
})
