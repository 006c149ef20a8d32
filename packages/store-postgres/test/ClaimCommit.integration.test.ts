/**
 * A claim on its own commits without waiting for the WAL flush (`synchronous_commit` off for its
 * own transaction); inside a caller's transaction it leaves that transaction's commit mode alone.
 * The setting must never outlive the claim: an append after it on the same connection has to be
 * durable at commit. On PostgreSQL with ONE pooled connection and on PGlite (one session), so that
 * every statement of a case shares the claim's session.
 */
import { assert, describe, it } from "@effect/vitest"
import { type ClaimOptions, EventStore } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Duration, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import * as OutboxSql from "../src/OutboxSql.ts"
import { tableNames } from "../src/Tables.ts"
import { freshSchemaName, storeDrivers } from "./utils.ts"

const claimOptions: ClaimOptions = { owner: "test", limit: 10, lease: Duration.seconds(30) }

/** The commit mode of the current transaction (or of the session, outside one). */
const commitMode = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ synchronous_commit: string }>`SHOW synchronous_commit`, (rows) => rows[0]!.synchronous_commit)
)

// One pooled connection on PostgreSQL: every statement of a case shares the claim's session.
const drivers = storeDrivers(1)

for (const [name, makeLayer] of Object.entries(drivers)) {
  describe(`claim commit mode (${name})`, () => {
    /** Runs `f` with a store holding one claimable row, and the claim statements of its schema. */
    const withRow = <A, E>(
      f: (statements: OutboxSql.Statements) => Effect.Effect<A, E, EventStore | SqlClient.SqlClient>
    ) =>
      Effect.gen(function* () {
        const schema = freshSchemaName("claimcommit")
        return yield* Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.append(yield* makeBatch([makeEvent()]))
          return yield* f(OutboxSql.statements(tableNames(schema)))
        }).pipe(Effect.provide(Layer.orDie(makeLayer(schema))))
      }).pipe(Effect.scoped)

    it.live("a claim on its own turns synchronous_commit off for its own transaction only", () =>
      withRow((statements) =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const before = yield* commitMode
          const rows = yield* OutboxSql.claim(sql, statements, claimOptions)
          assert.strictEqual(rows.length, 1)
          // What set_config returned inside the claim's statement: it ran there.
          assert.strictEqual((rows[0] as { commit_mode?: string }).commit_mode, "off")
          assert.strictEqual(yield* commitMode, before)
        })
      )
    )

    it.live("inside a caller's transaction the claim keeps that transaction's commit mode", () =>
      withRow((statements) =>
        Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          const store = yield* EventStore
          const [before, rows, after] = yield* store.transaction(
            Effect.gen(function* () {
              const before = yield* commitMode
              const rows = yield* OutboxSql.claim(sql, statements, claimOptions)
              return [before, rows, yield* commitMode] as const
            })
          )
          assert.strictEqual(rows.length, 1)
          assert.isUndefined((rows[0] as { commit_mode?: string }).commit_mode)
          assert.strictEqual(after, before)
        })
      )
    )
  })
}
