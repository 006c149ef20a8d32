/**
 * Migration 0004 (subscriptions) on a database that already holds events: they get transaction id 0
 * and come first, in position order, before every event appended afterwards; the immutability
 * triggers of 0002 still refuse changes; and the subscription read walks its index.
 */
import { assert, describe, it } from "@effect/vitest"
import { LogPosition, SubscriptionStore } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { DateTime, Effect, Exit, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { migrate, migrations, PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

describe("migration 0004: subscriptions", () => {
  it.live(
    "events stored before it are read first, in position order; the events stay immutable",
    () =>
      Effect.gen(function* () {
        const schema = freshSchemaName("sub_migration")
        yield* Effect.addFinalizer(() => dropSchema(schema))
        const layer = PgEventStore.layer({ url: databaseUrl, schema, poolSize: 2, migrate: false })
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const events = sql(`${schema}.events`)
          yield* migrate({ schema, migrations: migrations.filter((m) => m.id < 3) }) // a database from before streams (0003) and subscriptions
          const old = [makeEvent(), makeEvent()]
          for (const event of old) {
            yield* sql`
            INSERT INTO ${events} (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload)
            VALUES (${event.event_id}::uuid, ${event.event_type}, ${event.entity_type}, ${event.entity_id}, ${event.trace_id},
                    ${event.schema_version}, ${DateTime.formatIso(event.occurred_at)}::timestamptz, ${JSON.stringify(event.payload)}::jsonb)`
          }
          yield* migrate({ schema })
          const fresh = makeEvent()
          const store = yield* PgEventStore.make({ schema, migrate: false })
          yield* store.append({ raw: null, events: [fresh], outbox: [] })
          // Read once all three are readable: another test's open transaction may hold the new one back.
          const read = yield* SubscriptionStore.use((s) => s.readAll(LogPosition.start, 10)).pipe(
            Effect.repeat({ until: (events) => events.length === 3, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("60 seconds"),
            Effect.provide(PgEventStore.layerSql({ schema, migrate: false }))
          )
          assert.deepStrictEqual(
            read.map((e) => e.event.event_id),
            [...old, fresh].map((e) => e.event_id)
          )
          assert.deepStrictEqual(
            read.map((e) => e.log_position.transaction_id > 0),
            [false, false, true]
          )
          const update = yield* Effect.exit(sql`UPDATE ${events} SET transaction_id = '1'::xid8`)
          assert.isTrue(Exit.isFailure(update), "events are still immutable")
          assert.include(String(update), "immutable")
          // A three-row table is scanned whole; with that ruled out, the read must find the index usable
          // for both its bounds and its order (no Sort node).
          const plan = yield* sql
            .withTransaction(
              Effect.andThen(
                sql`SET LOCAL enable_seqscan = off`,
                sql<{ "QUERY PLAN": string }>`
                EXPLAIN SELECT * FROM ${events} e
                WHERE (e.transaction_id, e.position) > ('0'::xid8, 0::bigint)
                  AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
                ORDER BY e.transaction_id, e.position LIMIT 500`
              )
            )
            .pipe(Effect.map((rows) => rows.map((r) => r["QUERY PLAN"]).join("\n")))
          assert.include(plan, "Index Scan using events_transaction_position")
          assert.notInclude(plan, "Sort")
        }).pipe(Effect.provide(layer))
      }).pipe(Effect.scoped),
    120_000
  )
})
