/**
 * Retention on PostgreSQL and PGlite beyond the core contract: `prune` VACUUMs the outbox after
 * deleting, so the claim stops visiting the deleted rows' entries in the pending index without
 * waiting for autovacuum (off on the test server); a raw payload is still refused a DELETE outside
 * the retention's own transactions (migration 0007).
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, OutboxAdmin, OutboxQueue } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Duration, Effect, Exit, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { PgEventStore } from "../src/index.ts"
import { freshSchemaName, privateDatabase, sharedPglite } from "./utils.ts"

const database = privateDatabase()
const pglite = sharedPglite()

/** 2,000 rows delivered two hours ago (their old versions are in the pending index) and 3 pending. */
const history = (schema: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const sql = yield* SqlClient.SqlClient
    for (let i = 0; i < 2; i++) yield* store.append(yield* makeBatch(Array.from({ length: 1000 }, () => makeEvent())))
    yield* sql.unsafe(
      `UPDATE ${schema}.outbox SET status = 'delivered', delivered_at = now() - interval '2 hours', attempts = 1`
    )
    yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()]))
  })

/** Index entries of the outbox's pending index read so far (pool of one: see Backlog.integration.test.ts). */
const claimIndexReads = (schema: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe("SELECT pg_stat_force_next_flush()")
    const rows = yield* sql.unsafe<{ readonly n: string }>(
      `SELECT coalesce(sum(idx_tup_read), 0)::text AS n FROM pg_stat_user_indexes
       WHERE schemaname = $1 AND indexrelname = 'outbox_claim'`,
      [schema]
    )
    return Number(rows[0]?.n)
  })

const claimReads = (schema: string, vacuum: boolean) =>
  Effect.gen(function* () {
    yield* history(schema)
    const report = yield* OutboxAdmin.use((admin) => admin.prune({ delivered: Duration.hours(1), vacuum }))
    assert.strictEqual(report.delivered, 2000)
    const before = yield* claimIndexReads(schema)
    const claimed = yield* OutboxQueue.use((queue) =>
      queue.claim({ owner: "w", limit: 10, lease: Duration.minutes(1) })
    )
    assert.strictEqual(claimed.length, 3)
    return (yield* claimIndexReads(schema)) - before
  }).pipe(Effect.provide(Layer.orDie(PgEventStore.layer({ url: database(), schema, poolSize: 1 }))))

describe("prune on PostgreSQL", () => {
  it.live(
    "vacuums the outbox: the next claim reads the pending rows' index entries, not the deleted rows'",
    () =>
      Effect.gen(function* () {
        const without = yield* claimReads(freshSchemaName(), false)
        const vacuumed = yield* claimReads(freshSchemaName(), true)
        assert.isAtLeast(without, 2000, `without VACUUM the claim read ${without} entries`)
        assert.isBelow(vacuumed, 100, `after VACUUM the claim read ${vacuumed} entries`)
      }).pipe(Effect.scoped),
    60_000
  )
})

describe("prune on PGlite", () => {
  it.live(
    "deletes in batches and vacuums the outbox; a raw payload DELETE outside retention is still refused",
    () =>
      Effect.gen(function* () {
        const schema = freshSchemaName("pglite")
        yield* Effect.gen(function* () {
          yield* history(schema)
          const sql = yield* SqlClient.SqlClient
          const report = yield* OutboxAdmin.use((admin) =>
            admin.prune({ delivered: Duration.hours(1), batchSize: 500 })
          )
          assert.deepStrictEqual([report.delivered, report.batches], [2000, 4])
          const [stats] = yield* sql.unsafe<{ readonly vacuums: string }>(
            `SELECT vacuum_count::text AS vacuums FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'outbox'`,
            [schema]
          )
          assert.isAtLeast(Number(stats?.vacuums), 1, "the outbox was vacuumed")
          const refused = yield* Effect.exit(sql.unsafe(`DELETE FROM ${schema}.raw_payloads`))
          assert.isTrue(Exit.isFailure(refused), "raw payloads are immutable outside retention")
        }).pipe(Effect.provide(Layer.orDie(PgEventStore.layerPgliteInstance(pglite(), { schema }))))
      }),
    120_000
  )
})
