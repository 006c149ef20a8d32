/**
 * PostgreSQL only: a connection killed in the middle of an append (pg_terminate_backend) leaves
 * nothing half-written — no raw payload, no event, no outbox row — and the error says to retry.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, OutboxAdmin } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Deferred, Effect, Fiber, Option } from "effect"
import postgres from "postgres"
import { PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

/** Terminates the backends of `applicationName` once one of them is in state `state` (waits up to 20 s). */
const killWhen = (applicationName: string, condition: "waiting on a lock" | "idle in transaction") =>
  Effect.promise(async () => {
    const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
    try {
      for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
        const rows =
          condition === "waiting on a lock"
            ? await sql`SELECT pid FROM pg_stat_activity WHERE application_name = ${applicationName} AND wait_event_type = 'Lock'`
            : await sql`SELECT pid FROM pg_stat_activity WHERE application_name = ${applicationName} AND state = 'idle in transaction'`
        if (rows.length > 0) {
          await sql`SELECT pg_terminate_backend(${rows[0]!.pid})`
          return rows.length
        }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
      throw new Error(`no backend of ${applicationName} was ${condition}`)
    } finally {
      await sql.end({ timeout: 5 })
    }
  })

const nothingOf = (batch: Effect.Success<ReturnType<typeof makeBatch>>) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const admin = yield* OutboxAdmin
    assert.isTrue(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
    for (const event of batch.events) assert.isTrue(Option.isNone(yield* store.getEvent(event.event_id)), "no event")
    assert.strictEqual((yield* admin.stats).pending, 0, "no outbox row")
    // The same batch can be appended again: the failed attempt left no duplicate behind.
    const again = yield* store.append(batch)
    assert.strictEqual(again.appended.length, batch.events.length)
  })

describe("a connection killed mid-append", () => {
  it.live("inside the append statement: nothing of the batch is stored", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("killed")
      const applicationName = `sluice-${schema}`
      yield* Effect.addFinalizer(() => dropSchema(schema))
      const layer = PgEventStore.layer({ url: databaseUrl, schema, poolSize: 1, applicationName })
      const checker = PgEventStore.layer({ url: databaseUrl, schema, poolSize: 1, migrate: false })
      const batch = yield* makeBatch(
        Array.from({ length: 500 }, () => makeEvent()),
        ["a", "b"]
      )
      // Another session inserts the batch's raw payload id and keeps its transaction open, so the
      // append's statement blocks half-way (on the conflicting key) until it is killed.
      const blocker = postgres(databaseUrl, { max: 1, onnotice: () => {} })
      yield* Effect.addFinalizer(() => Effect.promise(() => blocker.end({ timeout: 5 })))
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        const holding = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        yield* Effect.forkScoped(
          Effect.promise(() =>
            blocker.begin(async (tx) => {
              await tx.unsafe(
                `INSERT INTO ${schema}.raw_payloads (raw_id, source, content_type, body, request, received_at, trace_id, content_hash)
                 VALUES ($1, 's', 'c', 'b', '{}', now(), 't', 'h')`,
                [batch.raw!.raw_id]
              )
              Effect.runFork(Deferred.succeed(holding, undefined))
              await Effect.runPromise(Deferred.await(release))
              throw new Error("roll back the blocker")
            })
          ).pipe(Effect.catchCause((cause) => Effect.logDebug("blocker ended", cause)))
        )
        yield* Deferred.await(holding)
        const append = yield* Effect.forkChild(store.append(batch))
        assert.strictEqual(yield* killWhen(applicationName, "waiting on a lock"), 1)
        const error = yield* Fiber.join(append).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StoreError")
        assert.isTrue(error.retryable, "a lost connection is retryable")
        yield* Deferred.succeed(release, undefined)
      }).pipe(Effect.provide(layer))
      yield* Effect.sleep("100 millis")
      yield* nothingOf(batch).pipe(Effect.provide(checker))
    }).pipe(Effect.scoped)
  )

  it.live("inside the caller's transaction, after the append: the transaction rolls back", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("killedtx")
      const applicationName = `sluice-${schema}`
      yield* Effect.addFinalizer(() => dropSchema(schema))
      const layer = PgEventStore.layer({ url: databaseUrl, schema, poolSize: 1, applicationName })
      const checker = PgEventStore.layer({ url: databaseUrl, schema, poolSize: 1, migrate: false })
      const batch = yield* makeBatch([makeEvent(), makeEvent()])
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        const appended = yield* Deferred.make<void>()
        const proceed = yield* Deferred.make<void>()
        const transaction = yield* Effect.forkChild(
          store.transaction(
            Effect.gen(function* () {
              yield* store.append(batch)
              yield* Deferred.succeed(appended, undefined)
              yield* Deferred.await(proceed) // the commit comes after the kill
            })
          )
        )
        yield* Deferred.await(appended)
        assert.strictEqual(yield* killWhen(applicationName, "idle in transaction"), 1)
        yield* Effect.sleep("100 millis") // the COMMIT comes after the client has seen the close
        yield* Deferred.succeed(proceed, undefined)
        const error = yield* Fiber.join(transaction).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StoreError")
      }).pipe(Effect.provide(layer))
      yield* nothingOf(batch).pipe(Effect.provide(checker))
    }).pipe(Effect.scoped)
  )
})
