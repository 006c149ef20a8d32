/**
 * README example (compiled by `tsc -b` and run by test/UserTransaction.integration.test.ts):
 * the outbox pattern's reason to exist. The order row, the event and its outbox row commit
 * together or not at all, so no order is ever saved without its event, nor an event sent for an
 * order that was rolled back.
 */
import { EventStore, Ids, type TraceId } from "@sluice/core"
import { DateTime, Effect } from "effect"
import { SqlClient } from "effect/sql"

export interface Order {
  readonly id: string
  readonly total: number
}

/** Saves an order into `table` and appends `order.placed` for it, in ONE transaction. */
export const placeOrder = (order: Order, traceId: TraceId, table = "shop.orders") =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient // provided by PgEventStore.layer / layerPglite
    const store = yield* EventStore
    const now = DateTime.makeUnsafe(yield* Effect.clockWith((clock) => clock.currentTimeMillis))
    const event = {
      event_id: Ids.deterministicEventId("shop", `order-placed/${order.id}`),
      event_type: "order.placed",
      entity_type: "order",
      entity_id: order.id,
      trace_id: traceId,
      schema_version: 1,
      occurred_at: now,
      payload: { total: order.total }
    }
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        // The business write: an ordinary statement on the same SqlClient...
        yield* sql`INSERT INTO ${sql(table)} ${sql.insert({ id: order.id, total: order.total })}`
        // ...and the events, in the same transaction (no raw payload: the event was made in code).
        return yield* store.append({
          raw: null,
          events: [event],
          outbox: [{ event_id: event.event_id, route: "billing", topic: "orders", ordering_key: `order:${order.id}` }]
        })
      })
    )
  })
