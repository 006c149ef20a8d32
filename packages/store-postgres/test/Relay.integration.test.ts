/**
 * PostgreSQL only: the core relay against the store under concurrency and failure.
 * - 4 relay workers, each with its own pool as separate processes would have, deliver 20,000 events:
 *   none lost, none delivered twice, while nothing fails.
 * - A worker that stops mid-batch leaves its rows to others once its lease expires, and its late
 *   results are refused.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Completion,
  delivered,
  EventStore,
  OutboxAdmin,
  OutboxQueue,
  Relay,
  type Route,
  Transports
} from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Clock, Duration, Effect, Fiber, Layer } from "effect"
import { PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

const route: Route = { name: "out", transport: "counting", topic: "t", match: ["**"] }

/** A no-op transport that counts deliveries per event id. */
const countingTransport = () => {
  const counts = new Map<string, number>()
  const layer = Transports.layerOf({
    name: "counting",
    publish: (envelopes) =>
      Effect.sync(() =>
        envelopes.map((envelope) => {
          counts.set(envelope.event.event_id, (counts.get(envelope.event.event_id) ?? 0) + 1)
          return delivered
        })
      )
  })
  return { counts, layer }
}

const storeIn = (schema: string, poolSize = 2) =>
  PgEventStore.layer({ url: databaseUrl, schema, poolSize, migrate: true })

describe("relay on PostgreSQL", () => {
  it.live(
    "4 concurrent relay workers deliver 20,000 events: none lost, none delivered twice",
    () =>
      Effect.gen(function* () {
        const schema = freshSchemaName("relay4")
        yield* Effect.addFinalizer(() => dropSchema(schema))
        const total = 20_000
        const ids = new Set<string>()
        yield* Effect.gen(function* () {
          const store = yield* EventStore
          for (let b = 0; b < total / 1000; b++) {
            const events = Array.from({ length: 1000 }, () => makeEvent())
            for (const e of events) ids.add(e.event_id)
            yield* store.append(yield* makeBatch(events, ["out"]))
          }
        }).pipe(Effect.provide(storeIn(schema)))
        const { counts, layer } = countingTransport()
        const workers = yield* Effect.forEach(
          [1, 2, 3, 4],
          (n) =>
            Effect.forkScoped(
              Relay.run({ routes: [route], owner: `p${n}`, batchSize: 200, pollInterval: "50 millis" }).pipe(
                Effect.provide(Layer.mergeAll(storeIn(schema), layer))
              )
            ),
          { concurrency: "unbounded" }
        )
        const stats = yield* Effect.gen(function* () {
          const admin = yield* OutboxAdmin
          while (true) {
            const stats = yield* admin.stats
            if (stats.delivered === total) return stats
            yield* Effect.sleep("100 millis")
          }
        }).pipe(Effect.provide(storeIn(schema)), Effect.timeout("60 seconds"))
        yield* Effect.sleep("200 millis") // a duplicate delivery would show up here
        yield* Effect.forEach(workers, Fiber.interrupt, { discard: true })
        assert.deepStrictEqual([stats.pending, stats.dead, stats.delivered], [0, 0, total])
        assert.strictEqual(counts.size, total, "every event delivered")
        assert.isTrue([...counts.keys()].every((id) => ids.has(id)))
        const twice = [...counts.values()].filter((n) => n !== 1).length
        assert.strictEqual(twice, 0, "no event delivered twice")
      }).pipe(Effect.scoped),
    120_000
  )

  it.live("a worker that stops mid-batch leaves its rows to others after its lease; its late results are refused", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("stopped")
      yield* Effect.addFinalizer(() => dropSchema(schema))
      const { counts, layer } = countingTransport()
      yield* Effect.gen(function* () {
        const store = yield* EventStore
        const queue = yield* OutboxQueue
        const admin = yield* OutboxAdmin
        yield* store.append(
          yield* makeBatch(
            Array.from({ length: 10 }, () => makeEvent()),
            ["out"]
          )
        )
        // The worker that will stop: it claims a batch with a short lease and never reports back.
        // Short, but not so short that a busy machine lets it run out before the next statement.
        const stuck = yield* queue.claim({ owner: "stopped", limit: 10, lease: Duration.seconds(2) })
        assert.strictEqual(stuck.length, 10)
        const healthy = Relay.runOnce({ routes: [route], owner: "healthy" })
        const before = yield* healthy
        assert.strictEqual(before.claimed, 0, "leased rows are not handed out")
        // Once the lease has run out the healthy worker takes the rows over (polled, with a deadline).
        const started = yield* Clock.currentTimeMillis
        let after = before
        while (after.claimed === 0 && (yield* Clock.currentTimeMillis) - started < 20_000) {
          yield* Effect.sleep("100 millis")
          after = yield* healthy
        }
        assert.deepStrictEqual([after.claimed, after.delivered], [10, 10])
        const late = yield* queue.complete(
          stuck.map((c) => Completion.Delivered({ outboxId: c.entry.outbox_id, token: c.entry.lease!.token }))
        )
        assert.deepStrictEqual([late.applied.length, late.rejected.length], [0, 10])
        const rows = yield* admin.listOutbox({})
        assert.isTrue(rows.every((r) => r.status === "delivered" && r.attempts === 1))
        assert.strictEqual(counts.size, 10)
      }).pipe(Effect.provide(Layer.mergeAll(storeIn(schema), layer)))
    }).pipe(Effect.scoped)
  )
})
