/**
 * The claim's plan stays cheap however many rows are pending: its LIMIT must bound the planner's
 * cost. When a filter makes the planner expect almost no matching row, the cost becomes that of
 * scanning every pending row, and past `jit_above_cost` (100,000 by default) PostgreSQL compiles
 * each claim with JIT first: up to 0.8 s per claim of 500 rows out of 100,000. Checked on the
 * plan of a schema with 50,000 pending rows, analyzed as autovacuum would, and `route_pauses`
 * empty and never analyzed (as it is in most deployments).
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as OutboxSql from "../src/OutboxSql.ts"
import { tableNames } from "../src/Tables.ts"
import { freshSchemaName, postgresDriver } from "./utils.ts"

const PENDING = 50_000
// PostgreSQL's default jit_above_cost: the cost above which a plan is compiled.
const JIT_ABOVE_COST = 100_000

const fill = (schema: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.unsafe(`
      WITH ev AS (
        INSERT INTO ${schema}.events (event_id, event_type, entity_type, entity_id, trace_id, schema_version,
                                      occurred_at, payload, revision)
        SELECT gen_random_uuid(), 'quote.updated', 'quote', 'SYM' || g, '4bf92f3577b34da6a3ce929d0e0e4736', 1, now(),
               '{}'::jsonb, 0
        FROM generate_series(1, ${PENDING}) g
        RETURNING event_id, entity_type, entity_id, revision
      ),
      st AS (INSERT INTO ${schema}.streams (entity_type, entity_id, revision)
             SELECT entity_type, entity_id, revision FROM ev)
      INSERT INTO ${schema}.outbox (event_id, route, topic) SELECT event_id, 'r', 't' FROM ev`)
    yield* sql.unsafe(`ANALYZE ${schema}.outbox`)
    yield* sql.unsafe(`ANALYZE ${schema}.events`)
  })

/** The planner's total cost of the claim, for these routes. */
const claimCost = (schema: string, routes: ReadonlyArray<string> | undefined) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const statement = OutboxSql.statements(tableNames(schema)).claim
    const params = statement.params({
      owner: "test",
      limit: 500,
      lease: Duration.seconds(30),
      ...(routes === undefined ? {} : { routes })
    })
    const rows = yield* sql.unsafe<{ "QUERY PLAN": ReadonlyArray<{ Plan: { "Total Cost": number } }> }>(
      `EXPLAIN (FORMAT JSON) ${statement.text}`,
      params
    ).unprepared
    return rows[0]!["QUERY PLAN"][0]!.Plan["Total Cost"]
  })

describe("the claim's plan on PostgreSQL", () => {
  it.live(`costs less than jit_above_cost with ${PENDING} rows pending`, () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("claimplan")
      yield* Effect.gen(function* () {
        yield* fill(schema)
        for (const routes of [["r"], undefined]) {
          const cost = yield* claimCost(schema, routes)
          assert.isBelow(cost, JIT_ABOVE_COST, `routes ${JSON.stringify(routes)}: cost ${cost}`)
        }
      }).pipe(Effect.provide(Layer.orDie(postgresDriver(1)(schema))))
    }).pipe(Effect.scoped)
  )
})
