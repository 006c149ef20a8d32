/**
 * The core README's inline projection example: a read model of the decider example's positions,
 * updated in the transaction that appends each trade. `inline-projection.integration.test.ts` runs it on PGlite.
 */
// #region inline
import { InlineProjection } from "@sluice/core"
import { PgEventStore } from "@sluice/store-postgres"
import { Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"

/** The read model: shares held per symbol, never below zero. */
export const createPositions = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.asVoid(sql`CREATE TABLE IF NOT EXISTS positions (
    symbol text PRIMARY KEY, shares bigint NOT NULL CHECK (shares >= 0))`)
)

const Trade = Schema.Struct({ shares: Schema.Int })

/** Runs in the append's transaction: if it fails (or the CHECK does), the events are not stored. */
export const positions = InlineProjection.make({
  name: "positions",
  eventTypes: ["position.bought", "position.sold"],
  apply: (event) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const { shares } = yield* Schema.decodeUnknownEffect(Trade)(event.payload)
      if (event.event_type === "position.sold")
        yield* sql`UPDATE positions SET shares = shares - ${shares} WHERE symbol = ${event.entity_id}`
      else
        yield* sql`INSERT INTO positions (symbol, shares) VALUES (${event.entity_id}, ${shares})
          ON CONFLICT (symbol) DO UPDATE SET shares = positions.shares + excluded.shares`
    })
})

/** The store with the projection over it: every append (ingestion, appendToStream, commands) runs it. */
export const storeWithPositions = InlineProjection.layer([positions]).pipe(
  Layer.provideMerge(PgEventStore.layerPglite({}))
)
// #endregion inline
