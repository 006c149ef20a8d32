/**
 * Migration 0003 (streams) on a database of the previous version, on PostgreSQL and on PGlite: the
 * events already stored get their streams' revisions in log (position) order, the streams table
 * knows where each stream is, appends carry on from there, and events stay immutable.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, streamName } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { migrate, migrations, PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName, sharedPglite } from "./utils.ts"

const pglite = sharedPglite()

/** The store in `schema`, not migrated (the case migrates by hand), and its SqlClient. */
const drivers = {
  postgres: (schema: string) =>
    Layer.unwrap(
      Effect.gen(function* () {
        yield* Effect.addFinalizer(() => dropSchema(schema))
        return PgEventStore.layer({ url: databaseUrl, schema, poolSize: 2, migrate: false })
      })
    ),
  pglite: (schema: string) =>
    Layer.unwrap(
      Effect.gen(function* () {
        const pg = pglite()
        yield* Effect.addFinalizer(() => Effect.promise(() => pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)))
        return PgEventStore.layerPgliteInstance(pg, { schema, migrate: false })
      })
    )
}

const beforeStreams = migrations.filter((m) => m.id < 3)

for (const [name, layerOf] of Object.entries(drivers)) {
  describe(`migration 0003_streams (${name})`, () => {
    it.live("numbers existing events per stream in position order, and appends carry on from there", () =>
      Effect.gen(function* () {
        const schema = freshSchemaName("streams_mig")
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* migrate({ schema, migrations: beforeStreams })
          const events = sql(`${schema}.events`)
          // Interleaved streams, inserted one statement at a time (so positions follow this order),
          // with event ids that sort in another order than their positions.
          const order = ["a", "b", "a", "c", "a", "b"] as const
          const ids = order.map((_, i) => `00000000-0000-4000-8000-00000000000${9 - i}`)
          for (const [i, entity] of order.entries()) {
            yield* sql`INSERT INTO ${events} (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload)
              VALUES (${ids[i]!}::uuid, 'account.changed', 'account', ${entity}, '4bf92f3577b34da6a3ce929d0e0e4736', 1, now(), '{}'::jsonb)`
          }
          const report = yield* migrate({ schema })
          assert.include(
            report.applied.map((m) => m.file),
            "0003_streams.sql"
          )

          const numbered = yield* sql<{ entity_id: string; revision: string }>`
            SELECT entity_id, revision::text AS revision FROM ${events} ORDER BY position`
          assert.deepStrictEqual(
            numbered.map((r) => [r.entity_id, Number(r.revision)]),
            [
              ["a", 0],
              ["b", 0],
              ["a", 1],
              ["c", 0],
              ["a", 2],
              ["b", 1]
            ]
          )
          const streams = yield* sql<{ entity_id: string; revision: string }>`
            SELECT entity_id, revision::text AS revision FROM ${sql(`${schema}.streams`)} ORDER BY entity_id`
          assert.deepStrictEqual(
            streams.map((r) => [r.entity_id, Number(r.revision)]),
            [
              ["a", 2],
              ["b", 1],
              ["c", 0]
            ]
          )

          const store = yield* EventStore
          const a = streamName("account", "a")
          const next = makeEvent({ entity_type: "account", entity_id: "a" })
          yield* store.append(yield* makeBatch([next]))
          const read = yield* store.readStream(a, { direction: "backwards", limit: 2 })
          assert.deepStrictEqual(
            read.map((s) => [s.revision, s.event.event_id]),
            [
              [3, next.event_id],
              [2, ids[4]]
            ]
          )
          const b = streamName("account", "b")
          const result = yield* store.appendToStream(
            b,
            yield* makeBatch([makeEvent({ entity_type: "account", entity_id: "b" })]),
            { expectedRevision: 1 }
          )
          assert.strictEqual(result.nextExpectedRevision, 2)

          const update = yield* Effect.flip(sql`UPDATE ${events} SET revision = revision + 10`)
          assert.match(update.message, /immutable/, "UPDATE is still refused")
          const remove = yield* Effect.flip(sql`DELETE FROM ${events}`)
          assert.match(remove.message, /immutable/, "DELETE is still refused")
        }).pipe(Effect.provide(layerOf(schema)))
      })
    )
  })
}
