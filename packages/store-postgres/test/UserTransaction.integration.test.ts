/**
 * Appending inside the caller's own transaction (the README example), on PostgreSQL and on PGlite:
 * the business row, the event and its outbox row commit together, and roll back together.
 */

import { assert, describe, it } from "@effect/vitest"
import { EventStore, OutboxAdmin, OutboxQueue, type TraceId } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { Data, Duration, Effect, Option } from "effect"
import { SqlClient } from "effect/sql"
import { placeOrder } from "../examples/placeOrder.ts"
import { freshSchemaName, storeDrivers } from "./utils.ts"

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId

class OutOfStockError extends Data.TaggedError("OutOfStockError")<{}> {}

/** The store on each driver; each case adds a `<schema>.orders` business table next to it. */
const drivers = storeDrivers(2)

for (const [name, makeLayer] of Object.entries(drivers)) {
  describe(`appending in the caller's transaction (${name})`, () => {
    const withStore = <A, E>(
      f: (orders: string) => Effect.Effect<A, E, EventStore | OutboxQueue | OutboxAdmin | SqlClient.SqlClient>
    ) =>
      Effect.gen(function* () {
        const schema = freshSchemaName("usertx")
        const orders = `${schema}.orders`
        return yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`CREATE TABLE ${sql(orders)} (id text PRIMARY KEY, total numeric NOT NULL)`
          return yield* f(orders)
        }).pipe(Effect.provide(makeLayer(schema)))
      })

    const countOrders = (orders: string, id: string) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.map(sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql(orders)} WHERE id = ${id}`, (r) => r[0]!.n)
      )

    it.live("the order, its event and its outbox row commit together", () =>
      withStore((orders) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const queue = yield* OutboxQueue
          const result = yield* placeOrder({ id: "o-1", total: 42 }, traceId, orders)
          assert.strictEqual(result.outboxRows, 1)
          assert.strictEqual(yield* countOrders(orders, "o-1"), 1)
          const stored = yield* store.getEvent(result.appended[0]!)
          assert.deepStrictEqual(
            Option.map(stored, (s) => s.event.payload),
            Option.some({ total: 42 })
          )
          const [claimed] = yield* queue.claim({ owner: "t", limit: 10, lease: Duration.seconds(10) })
          assert.strictEqual(claimed?.entry.route, "billing")
        })
      )
    )

    it.live("a business rule failing after the append rolls back the order AND the events", () =>
      withStore((orders) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const admin = yield* OutboxAdmin
          const error = yield* placeOrder({ id: "o-2", total: 7 }, traceId, orders).pipe(
            Effect.andThen(Effect.fail(new OutOfStockError())),
            store.transaction,
            Effect.flip
          )
          assert.strictEqual(error._tag, "OutOfStockError", "the caller's own error comes back unchanged")
          assert.strictEqual(yield* countOrders(orders, "o-2"), 0)
          assert.deepStrictEqual(yield* store.readEvents(0, 10), [])
          assert.strictEqual((yield* admin.stats).pending, 0)
        })
      )
    )

    it.live("a failing business write rolls back the events appended before it", () =>
      withStore((orders) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const admin = yield* OutboxAdmin
          yield* placeOrder({ id: "o-3", total: 1 }, traceId, orders)
          const sql = yield* SqlClient.SqlClient
          // The same order id again: the INSERT violates the primary key after a fresh append.
          const event = makeEvent()
          const failed = yield* sql
            .withTransaction(
              Effect.gen(function* () {
                const appended = yield* store.append({
                  raw: null,
                  events: [event],
                  outbox: [{ event_id: event.event_id, route: "billing", topic: "orders", ordering_key: null }]
                })
                assert.strictEqual(appended.outboxRows, 1)
                yield* sql`INSERT INTO ${sql(orders)} ${sql.insert({ id: "o-3", total: 2 })}`
              })
            )
            .pipe(Effect.flip)
          assert.strictEqual(failed._tag, "SqlError")
          assert.isTrue(Option.isNone(yield* store.getEvent(event.event_id)), "the event was rolled back")
          assert.strictEqual((yield* store.readEvents(0, 10)).length, 1, "only the first order's event")
          assert.strictEqual((yield* admin.stats).pending, 1, "only the first order's outbox row")
        })
      )
    )
  })
}
