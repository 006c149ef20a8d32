/**
 * A claim on its own commits without waiting for the WAL flush (`synchronous_commit` off for its
 * transaction only); inside a caller's transaction it leaves that transaction's commit mode alone.
 * The setting must never outlive the claim: an append after it on the same connection has to be
 * durable at commit.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Duration, Effect, Layer, Stream } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection } from "effect/sql"
import { PgEventStore } from "../src/index.ts"
import { makeCompiler } from "../src/PgCompiler.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

const claimOptions = { owner: "test", limit: 10, lease: Duration.seconds(30) }
const ASYNC_COMMIT = "set_config('synchronous_commit', 'off', true)"

/** Whether the current transaction (or the session, outside one) commits synchronously. */
const commitMode = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ synchronous_commit: string }>`SHOW synchronous_commit`, (rows) => rows[0]!.synchronous_commit)
)

/** The store on PostgreSQL with ONE connection, so every statement shares the claim's session. */
const oneConnection = Layer.unwrap(
  Effect.gen(function* () {
    const schema = freshSchemaName("claimcommit")
    yield* Effect.addFinalizer(() => dropSchema(schema))
    return PgEventStore.layer({ url: databaseUrl, schema, poolSize: 1 })
  })
).pipe(Layer.orDie)

describe("claim commit mode (PostgreSQL)", () => {
  it.live("a claim on its own leaves the session committing synchronously", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()]))
      const claimed = yield* store.claim(claimOptions)
      assert.strictEqual(claimed.length, 1)
      assert.strictEqual(yield* commitMode, "on")
    }).pipe(Effect.provide(oneConnection), Effect.scoped)
  )

  it.live("inside a caller's transaction the claim keeps that transaction's commit synchronous", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()]))
      const [claimed, mode] = yield* store.transaction(
        Effect.gen(function* () {
          const claimed = yield* store.claim(claimOptions)
          return [claimed, yield* commitMode] as const
        })
      )
      assert.strictEqual(claimed.length, 1)
      assert.strictEqual(mode, "on")
    }).pipe(Effect.provide(oneConnection), Effect.scoped)
  )
})

/** A connection that records what it is sent and answers every claim with no rows. */
const recording = (sent: Array<string>): SqlConnection.Connection => {
  const answer = (text: string) =>
    Effect.sync(() => {
      sent.push(text)
      return []
    })
  return {
    execute: answer,
    executeRaw: answer,
    executeStream: () => Stream.empty,
    executeValues: answer,
    executeValuesUnprepared: answer,
    executeUnprepared: answer
  }
}

describe("claim commit mode (statements sent)", () => {
  it.effect("a claim on its own asks for an asynchronous commit; one in a transaction does not", () =>
    Effect.gen(function* () {
      const sent: Array<string> = []
      const connection = recording(sent)
      const sqlLayer = Layer.effect(
        SqlClient.SqlClient,
        SqlClient.make({
          acquirer: Effect.succeed(connection),
          transactionAcquirer: Effect.succeed(connection),
          compiler: makeCompiler(),
          driver: "postgres",
          spanAttributes: []
        })
      ).pipe(Layer.provide(Reactivity.layer))
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.claim(claimOptions)
        const alone = sent.filter((text) => text.includes("claimed AS"))
        assert.strictEqual(alone.length, 1)
        assert.include(alone[0]!, ASYNC_COMMIT)
        sent.length = 0
        yield* store.transaction(store.claim(claimOptions))
        const inTransaction = sent.filter((text) => text.includes("claimed AS"))
        assert.strictEqual(inTransaction.length, 1)
        assert.notInclude(inTransaction[0]!, ASYNC_COMMIT)
      }).pipe(Effect.provide(PgEventStore.layerSql({ migrate: false, notify: false }).pipe(Layer.provide(sqlLayer))))
    })
  )
})
