/**
 * Before COMMIT a transaction waits for one macrotask (PostgresJs.ts: a cut connection's rejections
 * must land first). setImmediate, not a timer: Node runs a zero-delay setTimeout a millisecond later,
 * and every transaction waited for it. With setTimeout held, a transaction must still commit.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore } from "@sluice/core"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { vi } from "vitest"
import { freshPgLayer } from "./utils.ts"

describe("a transaction on postgres.js", () => {
  it.effect(
    "commits without waiting for a timer",
    () =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const store = yield* EventStore
        // The pool's connections are open before setTimeout is held (connecting arms a timeout).
        yield* Effect.all([sql`SELECT 1`, sql`SELECT 1`], { concurrency: 2 })
        vi.useFakeTimers({ toFake: ["setTimeout"] })
        const rows = yield* store
          .transaction(sql<{ one: number }>`SELECT 1 AS one`)
          .pipe(Effect.ensuring(Effect.sync(() => vi.useRealTimers())))
        assert.deepStrictEqual(rows, [{ one: 1 }])
      }).pipe(Effect.provide(freshPgLayer())),
    10_000
  )
})
