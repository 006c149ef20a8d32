/**
 * Migration 0005 (corrections) on a database that already holds events, stored by the append of
 * 0004 (their ids from the natural key alone): the same content again is still a duplicate, other
 * content a correction superseding the old event, and the original again a correction back.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { migrate, migrations, PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

describe("migration 0005: corrections", () => {
  it.live(
    "events stored before it are their keys' first versions: duplicates and corrections work on them",
    () =>
      Effect.gen(function* () {
        const schema = freshSchemaName("correction_migration")
        yield* Effect.addFinalizer(() => dropSchema(schema))
        const layer = PgEventStore.layer({ url: databaseUrl, schema, poolSize: 2, migrate: false })
        yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* migrate({ schema, migrations: migrations.filter((m) => m.id < 5) })
          const old = makeEvent({ key: `GOOG@2020-01-02-${schema}`, payload: { close: 1367.37 } })
          // The 0004 store's statement: events of a database from before corrections.
          yield* sql`
            INSERT INTO ${sql(`${schema}.events`)} (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, revision)
            VALUES (${old.event_id}::uuid, ${old.event_type}, ${old.entity_type}, ${old.entity_id}, ${old.trace_id},
                    ${old.schema_version}, '2026-01-02T03:04:05Z'::timestamptz, ${JSON.stringify(old.payload)}::text::jsonb, 0)`
          yield* sql`INSERT INTO ${sql(`${schema}.streams`)} (entity_type, entity_id, revision) VALUES (${old.entity_type}, ${old.entity_id}, 0)`
          yield* migrate({ schema })
          const store = yield* PgEventStore.make({ schema, migrate: false })
          const same = yield* store.append(yield* makeBatch([old]))
          assert.deepStrictEqual([same.duplicates, same.corrected], [[old.event_id], []])
          const split = yield* store.append(yield* makeBatch([{ ...old, payload: { close: 68.3685 } }]))
          assert.deepStrictEqual(
            split.corrected.map((c) => [c.of, c.supersedes]),
            [[old.event_id, old.event_id]]
          )
          const back = yield* store.append(yield* makeBatch([old]))
          assert.deepStrictEqual(
            back.corrected.map((c) => c.supersedes),
            [split.corrected[0]!.eventId]
          )
          const stream = yield* store.readStream({ entity_type: old.entity_type, entity_id: old.entity_id })
          assert.deepStrictEqual(
            stream.map((s) => [s.revision, s.event.supersedes ?? null]),
            [
              [0, null],
              [1, old.event_id],
              [2, split.corrected[0]!.eventId]
            ]
          )
        }).pipe(Effect.provide(layer))
      }).pipe(Effect.scoped),
    120_000
  )
})
