/**
 * Inline projections on PostgreSQL and on PGlite: the projection's SQL runs in the append's
 * transaction, so the read model and the events commit together and roll back together, on every
 * append path; duplicates are not projected again.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  CommandHandler,
  Decider,
  EventStore,
  InlineProjection,
  OutboxAdmin,
  streamName,
  type TraceId
} from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { Data, Effect, Layer, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { freshSchemaName, storeDrivers } from "./utils.ts"

const traceId = "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId
const drivers = storeDrivers(2)

class Refused extends Data.TaggedError("Refused")<{}> {}

/** Counts events per entity in `<schema>.counts`; refuses (after its insert) a payload saying so. */
const counting = (table: string) =>
  InlineProjection.make({
    name: "counts",
    apply: (event) =>
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`INSERT INTO ${sql(table)} (entity_id, n) VALUES (${event.entity_id}, 1)
          ON CONFLICT (entity_id) DO UPDATE SET n = ${sql(table)}.n + 1`
        if ((event.payload as { readonly refuse?: boolean }).refuse === true) return yield* new Refused()
      })
  })

const Counted = Schema.Struct({ type: Schema.Literal("test.happened"), payload: Schema.Struct({ n: Schema.Int }) })
const counter = Decider.make({
  initialState: () => 0,
  evolve: (state: number, event: typeof Counted.Type) => state + event.payload.n,
  decide: (n: number) => Effect.succeed([{ type: "test.happened" as const, payload: { n } }])
})

for (const [name, makeLayer] of Object.entries(drivers)) {
  describe(`inline projections (${name})`, () => {
    const withStore = <A, E>(
      f: (counts: string) => Effect.Effect<A, E, EventStore | OutboxAdmin | SqlClient.SqlClient>
    ) =>
      Effect.gen(function* () {
        const schema = freshSchemaName("inline")
        const counts = `${schema}.counts`
        return yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          yield* sql`CREATE TABLE ${sql(counts)} (entity_id text PRIMARY KEY, n int NOT NULL)`
          return yield* f(counts)
        }).pipe(Effect.provide(InlineProjection.layer([counting(counts)]).pipe(Layer.provideMerge(makeLayer(schema)))))
      })

    const count = (counts: string, entity_id: string) =>
      Effect.flatMap(SqlClient.SqlClient, (sql) =>
        Effect.map(
          sql<{ n: number }>`SELECT n FROM ${sql(counts)} WHERE entity_id = ${entity_id}`,
          (rows) => rows[0]?.n ?? 0
        )
      )

    it.live("the read model commits with the events; a duplicate is not projected again", () =>
      withStore((counts) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const first = makeEvent({ entity_id: "e1", trace_id: traceId })
          const second = makeEvent({ entity_id: "e1", trace_id: traceId })
          yield* store.append({ raw: null, events: [first, second], outbox: [] })
          assert.strictEqual(yield* count(counts, "e1"), 2)
          const again = yield* store.append({ raw: null, events: [first], outbox: [] })
          assert.deepStrictEqual(again.duplicates, [first.event_id])
          assert.strictEqual(yield* count(counts, "e1"), 2)
        })
      )
    )

    it.live("a projection that fails rolls back its own writes, the events and their outbox rows", () =>
      withStore((counts) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const admin = yield* OutboxAdmin
          const events = [
            makeEvent({ entity_id: "e2", trace_id: traceId }),
            makeEvent({ entity_id: "e2", trace_id: traceId, payload: { refuse: true } })
          ]
          const outbox = events.map((e) => ({ event_id: e.event_id, route: "r", topic: "t", ordering_key: null }))
          const error = yield* store.append({ raw: null, events, outbox }).pipe(Effect.flip)
          assert.strictEqual(error.operation, "inline projection counts")
          assert.instanceOf(error.cause, Refused)
          assert.strictEqual(yield* count(counts, "e2"), 0)
          assert.deepStrictEqual(yield* store.readEvents(0, 10), [])
          assert.strictEqual((yield* admin.stats).pending, 0)
        })
      )
    )

    it.live("the command handler's appendToStream runs it; a failure in the caller's transaction undoes both", () =>
      withStore((counts) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const handler = CommandHandler.make({ decider: counter, events: Counted })
          const stream = streamName("test", "e3")
          yield* handler.handle(stream, 1)
          yield* handler.handle(stream, 2)
          assert.strictEqual(yield* count(counts, "e3"), 2)
          const failed = yield* handler
            .handle(stream, 3)
            .pipe(Effect.andThen(Effect.fail(new Refused())), store.transaction, Effect.flip)
          assert.strictEqual(failed._tag, "Refused")
          assert.strictEqual(yield* count(counts, "e3"), 2)
          assert.strictEqual((yield* store.readStream(stream)).length, 2)
        })
      )
    )
  })
}
