/**
 * `backlog` on PostgreSQL reads the pending and dead rows through their partial indexes and never
 * the delivered rows, whose number only grows: `/metrics` runs it on every scrape. Checked on the
 * plan with sequential scans disabled, so that an empty test table does not decide it: a query whose
 * predicates match no index keeps its Seq Scan even then.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as OutboxSql from "../src/OutboxSql.ts"
import { tableNames } from "../src/Tables.ts"
import { freshSchemaName, storeDrivers } from "./utils.ts"

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

const drivers = storeDrivers(1)

describe("backlog on PostgreSQL", () => {
  it.live("reads only the partial indexes of pending and dead rows", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName()
      const text = yield* plan(OutboxSql.backlogText(tableNames(schema))).pipe(
        Effect.provide(Layer.orDie(drivers.postgres(schema)))
      )
      assert.notInclude(text, "Seq Scan", text)
      assert.include(text, "outbox_claim", text)
      assert.include(text, "outbox_dead", text)
    }).pipe(Effect.scoped)
  )
})
