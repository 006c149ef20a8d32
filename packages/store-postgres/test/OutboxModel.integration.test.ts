/**
 * The outbox state machine on PostgreSQL and on PGlite against core's model (OutboxModel in
 * `@sluice/core/testing`), each program in a fresh schema. The store compares lease expiries and due
 * times with the database's now(), so the model's time is in hours, far from every boundary: an
 * `advance` step moves every expiry and due time of the schema one hour into the past; a short
 * lease lasts 30 minutes, a long one 10 hours; a retry is due at once or in 10 hours. No sleeping:
 * a program takes milliseconds and nothing depends on the machine's speed.
 */
import { describe, it } from "@effect/vitest"
import { OutboxModel } from "@sluice/core/testing"
import { Duration, Effect } from "effect"
import { SqlClient } from "effect/sql"
import { freshSchemaName, storeDrivers } from "./utils.ts"

const hour = Duration.hours(1)

const databaseClock = (schema: string): OutboxModel.ModelClock<SqlClient.SqlClient> => {
  let hours = 0
  return {
    now: Effect.sync(() => hours * Duration.toMillis(hour)),
    advance: () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(
          `UPDATE ${schema}.outbox SET next_attempt_at = next_attempt_at - interval '1 hour',
                  lease_expires_at = lease_expires_at - interval '1 hour'`
        )
        hours++
      }),
    lease: (a) => (a % 2 === 0 ? Duration.minutes(30) : Duration.hours(10)),
    retryDelay: (b) => (b % 2 === 1 ? Duration.hours(10) : Duration.zero),
    // next_attempt_at in microseconds, as the database orders claims.
    dueTimes: Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const rows = yield* sql.unsafe<{ id: string; us: string }>(
        `SELECT outbox_id::text AS id, (extract(epoch FROM next_attempt_at) * 1000000)::bigint::text AS us
           FROM ${schema}.outbox`
      )
      return new Map(rows.map((row) => [row.id as never, BigInt(row.us)]))
    })
  }
}

const drivers = storeDrivers(2)

describe.each(["postgres", "pglite"] as const)("outbox state machine on %s (model-based)", (driver) => {
  it.live.prop(
    "random operation sequences keep the store and the model in agreement",
    [OutboxModel.Program],
    ([program]) => {
      const schema = freshSchemaName("sluice_model")
      return OutboxModel.run(program, databaseClock(schema)).pipe(Effect.provide(drivers[driver](schema)))
    },
    {
      timeout: 120_000,
      // SLUICE_MODEL_RUNS=1000 SLUICE_MODEL_SEED=7 for a longer search.
      arbitrary: {
        runs: Number(process.env.SLUICE_MODEL_RUNS ?? 40),
        seed: Number(process.env.SLUICE_MODEL_SEED ?? 1),
        maxShrinks: 10
      }
    }
  )
})
