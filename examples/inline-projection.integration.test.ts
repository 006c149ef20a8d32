/**
 * The README's inline projection on PGlite: the decider example's trades update the read model in
 * their own transaction, and an event the read model refuses (its CHECK) is not stored either.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, streamName, type TraceId } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { trade } from "./decider.ts"
import { createPositions, storeWithPositions } from "./inline-projection.ts"

const shares = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ symbol: string; shares: number }>`SELECT symbol, shares::int FROM positions`, (rows) => [...rows])
)

describe("README inline projection example", () => {
  it.effect("commits the read model with the events, and rolls both back together", () =>
    Effect.gen(function* () {
      yield* createPositions
      expect(yield* trade).toEqual({ shares: 6 })
      expect(yield* shares).toEqual([{ symbol: "ACME", shares: 6 }])
      // Selling 7 of 6: the CHECK fails in the projection, so the append writes nothing.
      const store = yield* EventStore
      const oversold = makeEvent({
        event_type: "position.sold",
        entity_type: "position",
        entity_id: "ACME",
        trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId,
        payload: { shares: 7 }
      })
      const error = yield* store.append({ raw: null, events: [oversold], outbox: [] }).pipe(Effect.flip)
      expect(error.operation).toBe("inline projection positions")
      expect(yield* shares).toEqual([{ symbol: "ACME", shares: 6 }])
      expect((yield* store.readStream(streamName("position", "ACME"))).length).toBe(2)
    }).pipe(Effect.provide(storeWithPositions))
  )
})
