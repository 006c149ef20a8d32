import { describe, expect, it } from "@effect/vitest"
import { EventStore, layerMemory, OutboxAdmin, streamName } from "@sluice/core"
import { DeciderSpecification } from "@sluice/core/testing"
import { Effect } from "effect"
import { NotEnoughShares, position, trade } from "./decider.ts"

// #region spec
const spec = DeciderSpecification.for(position)

describe("the position decider", () => {
  it.effect("sells shares it holds", () =>
    spec
      .given([{ type: "position.bought", payload: { shares: 10 } }])
      .when({ type: "sell", shares: 4 })
      .then([{ type: "position.sold", payload: { shares: 4 } }])
  )

  it.effect("refuses to sell more than it holds", () =>
    spec
      .given([{ type: "position.bought", payload: { shares: 3 } }])
      .when({ type: "sell", shares: 4 })
      .then(new NotEnoughShares({ held: 3, wanted: 4 }))
  )
})
// #endregion spec

describe("the position's command handler", () => {
  it.effect("stores each command's events on the stream, with their outbox rows", () =>
    Effect.gen(function* () {
      expect(yield* trade).toEqual({ shares: 6 })
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const stored = yield* store.readStream(streamName("position", "ACME"))
      expect(stored.map((s) => [s.revision, s.event.event_type, s.event.payload])).toEqual([
        [0, "position.bought", { shares: 10 }],
        [1, "position.sold", { shares: 4 }]
      ])
      const outbox = yield* admin.listOutbox({})
      expect(outbox.map((o) => [o.route, o.ordering_key])).toEqual([
        ["trades", "position:ACME"],
        ["trades", "position:ACME"]
      ])
    }).pipe(Effect.provide(layerMemory))
  )
})
