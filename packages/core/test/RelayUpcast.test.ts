/**
 * The relay's `publish` route option: as stored (the default) or upcast to the latest version, and
 * what happens to a row whose upcast fails (dead-lettered at once, with the reason).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Schema } from "effect"
import { EventStore } from "../src/EventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import * as Relay from "../src/Relay.ts"
import type { Route } from "../src/Routing.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import { MemoryTransport } from "../src/testing/MemoryTransport.ts"
import * as Upcaster from "../src/Upcaster.ts"
import * as Upcasters from "../src/Upcasters.ts"

const routes: ReadonlyArray<Route> = [
  { name: "as-stored", transport: "memory", topic: "s", match: ["**"] },
  { name: "latest", transport: "memory", topic: "l", match: ["**"], publish: "latest" }
]
const upcasters = Upcasters.layer([
  Upcaster.make({
    event_type: "quote.updated",
    from: 1,
    source: Schema.Struct({ price: Schema.Number }),
    target: Schema.Struct({ price: Schema.Number, currency: Schema.String }),
    upcast: (q) => ({ ...q, currency: "USD" })
  })
])
const layer = Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"))

const append = (payloads: ReadonlyArray<Schema.Json>) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const events = payloads.map((payload) => makeEvent({ event_type: "quote.updated", payload }))
    yield* store.append(yield* makeBatch(events, ["as-stored", "latest"]))
    return events
  })

const publishedOn = (route: string) =>
  Effect.map(
    MemoryTransport.use((m) => m.published),
    (envelopes) => envelopes.filter((e) => e.route === route).map((e) => [e.event.schema_version, e.event.payload])
  )

describe("relay publish: stored | latest", () => {
  it.effect("publishes each route's version: as stored, or upcast to the latest", () =>
    Effect.gen(function* () {
      yield* append([{ price: 10 }])
      const report = yield* Relay.runOnce({ routes, owner: "t" })
      assert.strictEqual(report.delivered, 2)
      assert.deepStrictEqual(yield* publishedOn("as-stored"), [[1, { price: 10 }]])
      assert.deepStrictEqual(yield* publishedOn("latest"), [[2, { price: 10, currency: "USD" }]])
      const [stored] = yield* EventStore.use((s) => s.readEvents(0, 10))
      assert.deepStrictEqual([stored!.event.schema_version, stored!.event.payload], [1, { price: 10 }])
    }).pipe(Effect.provide([layer, upcasters]))
  )

  it.effect("without upcasters, a latest route publishes as stored", () =>
    Effect.gen(function* () {
      yield* append([{ price: 10 }])
      yield* Relay.runOnce({ routes, owner: "t" })
      assert.deepStrictEqual(yield* publishedOn("latest"), [[1, { price: 10 }]])
    }).pipe(Effect.provide(layer))
  )

  it.effect("a row whose upcast fails is dead-lettered at once, naming the event; the others go out", () =>
    Effect.gen(function* () {
      const admin = yield* OutboxAdmin
      const [bad] = yield* append([{ price: "ten" }, { price: 3 }])
      const report = yield* Relay.runOnce({ routes, owner: "t" })
      assert.deepStrictEqual([report.delivered, report.dead], [3, 1])
      assert.deepStrictEqual(yield* publishedOn("latest"), [[2, { price: 3, currency: "USD" }]])
      const [dead] = yield* admin.listOutbox({ status: "dead" })
      assert.strictEqual(dead!.route, "latest")
      assert.strictEqual(dead!.event_id, bad!.event_id)
      assert.strictEqual(dead!.attempts, 1, "no retries: the same payload would fail the same way")
      for (const part of ["upcast failed", bad!.event_id, "quote.updated", "version 1 to 2", "price"]) {
        assert.include(dead!.last_error, part)
      }
    }).pipe(Effect.provide([layer, upcasters]))
  )
})
