/**
 * `backlog` on PostgreSQL reads the pending and dead rows through their partial indexes and never
 * the delivered rows, whose number only grows: `/metrics` runs it on every scrape. Checked on the
 * plan with sequential scans disabled, so that an empty test table does not decide it: a query whose
 * predicates match no index keeps its Seq Scan even then. And checked on the store itself, with the
 * server's own counts of outbox rows read: `store.backlog` must be that query, not `stats` (which
 * counts every row) with the delivered count dropped.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, OutboxAdmin } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { PgEventStore } from "../src/index.ts"
import * as OutboxSql from "../src/OutboxSql.ts"
import { tableNames } from "../src/Tables.ts"
import { freshSchemaName, postgresDriver, privateDatabase } from "./utils.ts"

const plan = (text: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql.unsafe("SET LOCAL enable_seqscan = off")
        const rows = yield* sql.unsafe<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`)
        return rows.map((row) => row["QUERY PLAN"]).join("\n")
      })
    )
  })

const postgres = postgresDriver(1)
// The counter's check VACUUMs: in a database of its own, so other test runs cannot hold it back.
const database = privateDatabase()

describe("backlog on PostgreSQL", () => {
  it.live("reads only the partial indexes of pending and dead rows", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName()
      const text = yield* plan(OutboxSql.backlogText(tableNames(schema))).pipe(
        Effect.provide(Layer.orDie(postgres(schema)))
      )
      assert.notInclude(text, "Seq Scan", text)
      assert.include(text, "outbox_claim", text)
      assert.include(text, "outbox_dead", text)
    }).pipe(Effect.scoped)
  )

  /**
   * Outbox rows (heap tuples and index entries) read so far by statements on this database, from
   * the server's statistics. Meaningful with a pool of one connection: pg_stat_force_next_flush
   * (PostgreSQL 15) makes that backend publish its counts when the statement ends, instead of at
   * most once a second.
   */
  const outboxReads = (schema: string) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql.unsafe("SELECT pg_stat_force_next_flush()")
      const rows = yield* sql.unsafe<{ readonly n: string }>(
        `SELECT (coalesce((SELECT seq_tup_read FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'outbox'), 0)
               + coalesce((SELECT sum(idx_tup_read) FROM pg_stat_user_indexes WHERE schemaname = $1 AND relname = 'outbox'), 0))::text AS n`,
        [schema]
      )
      return Number(rows[0]?.n)
    })

  it.live("store.backlog does not read the delivered rows; stats does (the counter's check)", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName()
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const sql = yield* SqlClient.SqlClient
        for (let i = 0; i < 2; i++)
          yield* store.append(yield* makeBatch(Array.from({ length: 1000 }, () => makeEvent())))
        yield* sql.unsafe(`UPDATE ${schema}.outbox SET status = 'delivered', delivered_at = now(), attempts = 1`)
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()]))
        // What autovacuum does to a table with that many changed rows: the delivered rows' old
        // versions leave the pending index (until then an index scan still visits their entries),
        // and the planner learns how few rows are pending.
        yield* sql.unsafe(`VACUUM ANALYZE ${schema}.outbox`)

        const before = yield* outboxReads(schema)
        const backlog = yield* admin.backlog
        const read = (yield* outboxReads(schema)) - before
        assert.strictEqual(backlog.pending, 3)
        assert.isBelow(read, 100, `backlog read ${read} outbox rows`)

        const beforeStats = yield* outboxReads(schema)
        const stats = yield* admin.stats
        const readByStats = (yield* outboxReads(schema)) - beforeStats
        assert.strictEqual(stats.delivered, 2000)
        assert.isAtLeast(readByStats, 2000, `stats read ${readByStats} outbox rows`)
      }).pipe(Effect.provide(Layer.orDie(PgEventStore.layer({ url: database(), schema, poolSize: 1 }))))
    }).pipe(Effect.scoped)
  )
})
