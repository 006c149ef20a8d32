/**
 * Streams under real concurrency on PostgreSQL: writers on separate connections, each case waiting
 * until the server shows the second writer blocked on the first's lock (pg_stat_activity) before the
 * first commits, so the contended path is the one exercised, whatever the machine's speed.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, LogPosition, SubscriptionStore, streamName, WrongExpectedRevisionError } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Deferred, Effect, Fiber, Schedule } from "effect"
import { admin, freshSchemaName, postgresDriver } from "./utils.ts"

/** Waits until a statement on `schema`'s tables waits for a lock (polled; fails after 20 s). */
const blockedIn = (schema: string) =>
  admin(
    (sql) => sql<Array<{ n: number }>>`
      SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE wait_event_type = 'Lock' AND state = 'active' AND position(${schema} IN query) > 0`
  ).pipe(
    Effect.flatMap((rows) => (rows[0]!.n > 0 ? Effect.void : Effect.fail("not blocked yet" as const))),
    Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 1000 })
  )

describe("streams under concurrency (postgres)", () => {
  const driver = postgresDriver(4)
  /** Runs `f` with the store in a fresh schema, the schema's name given for `blockedIn`. */
  const withStore = <A, E>(f: (schema: string) => Effect.Effect<A, E, EventStore | SubscriptionStore>) => {
    const schema = freshSchemaName("streams")
    return f(schema).pipe(Effect.provide(driver(schema)))
  }

  it.live(
    "two writers with the same exact revision: the one blocked on the other's lock gets WrongExpectedRevisionError",
    () =>
      withStore((schema) =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = streamName("account", `race-${Math.random()}`)
          const event = () => makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id })
          yield* store.appendToStream(stream, yield* makeBatch([event()]), { expectedRevision: "no_stream" })
          const appended = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          const first = yield* Effect.forkChild(
            store.transaction(
              Effect.gen(function* () {
                yield* store.appendToStream(stream, yield* makeBatch([event()]), { expectedRevision: 0 })
                yield* Deferred.succeed(appended, undefined)
                yield* Deferred.await(release)
              })
            )
          )
          yield* Deferred.await(appended)
          const second = yield* Effect.forkChild(
            Effect.flip(store.appendToStream(stream, yield* makeBatch([event()]), { expectedRevision: 0 }))
          )
          yield* blockedIn(schema)
          yield* Deferred.succeed(release, undefined)
          yield* Fiber.join(first)
          const error = yield* Fiber.join(second)
          assert.instanceOf(error, WrongExpectedRevisionError)
          assert.deepStrictEqual([error.expected, error.actual], [0, 1])
          const stored = yield* store.readStream(stream)
          assert.deepStrictEqual(
            stored.map((s) => s.revision),
            [0, 1]
          )
        })
      )
  )

  it.live("an append racing another append of the same event finds it a duplicate, and the stream stays gap-free", () =>
    withStore((schema) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = streamName("account", `dup-${Math.random()}`)
        const event = () => makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id })
        const shared = event()
        const appended = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const first = yield* Effect.forkChild(
          store.transaction(
            Effect.gen(function* () {
              yield* store.append(yield* makeBatch([shared]))
              yield* Deferred.succeed(appended, undefined)
              yield* Deferred.await(release)
            })
          )
        )
        yield* Deferred.await(appended)
        // Its statement's snapshot predates the first commit: it sees `shared` as new until it runs again.
        const later = event()
        const second = yield* Effect.forkChild(store.append(yield* makeBatch([shared, later])))
        yield* blockedIn(schema)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(first)
        const result = yield* Fiber.join(second)
        assert.deepStrictEqual([result.appended, result.duplicates], [[later.event_id], [shared.event_id]])
        const stored = yield* store.readStream(stream)
        assert.deepStrictEqual(
          stored.map((s) => [s.revision, s.event.event_id]),
          [
            [0, shared.event_id],
            [1, later.event_id]
          ]
        )
      })
    )
  )

  it.live("the same race inside the caller's transaction fails retryable, and the transaction writes nothing", () =>
    withStore((schema) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = streamName("account", `duptx-${Math.random()}`)
        const shared = makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id })
        const appended = yield* Deferred.make<void>()
        const release = yield* Deferred.make<void>()
        const first = yield* Effect.forkChild(
          store.transaction(
            Effect.gen(function* () {
              yield* store.append(yield* makeBatch([shared]))
              yield* Deferred.succeed(appended, undefined)
              yield* Deferred.await(release)
            })
          )
        )
        yield* Deferred.await(appended)
        const other = makeEvent()
        const second = yield* Effect.forkChild(
          Effect.flip(
            store.transaction(
              Effect.gen(function* () {
                yield* store.append(yield* makeBatch([other]))
                yield* store.append(yield* makeBatch([shared]))
              })
            )
          )
        )
        yield* blockedIn(schema)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(first)
        const error = yield* Fiber.join(second)
        assert.strictEqual(error._tag, "StoreError")
        assert.isTrue(error._tag === "StoreError" && error.retryable, "retryable")
        assert.isTrue((yield* store.getEvent(other.event_id))._tag === "None", "the transaction rolled back")
      })
    )
  )

  it.live("writers that read, then append with the revision read, retrying on conflict: one event per revision", () =>
    withStore(() =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = streamName("account", `many-${Math.random()}`)
        let conflicts = 0
        const writer = Effect.gen(function* () {
          const last = (yield* store.readStream(stream, { direction: "backwards", limit: 1 }))[0]
          const batch = yield* makeBatch([makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id })])
          return yield* store.appendToStream(stream, batch, { expectedRevision: last?.revision ?? "no_stream" })
        }).pipe(
          Effect.tapError((e) => Effect.sync(() => void (e._tag === "WrongExpectedRevisionError" && conflicts++))),
          Effect.retry({ while: (e) => e._tag === "WrongExpectedRevisionError" })
        )
        const results = yield* Effect.all(
          Array.from({ length: 24 }, () => writer),
          { concurrency: "unbounded" }
        )
        assert.deepStrictEqual(
          results.map((r) => r.nextExpectedRevision).sort((a, b) => Number(a) - Number(b)),
          Array.from({ length: 24 }, (_, i) => i)
        )
        assert.deepStrictEqual(
          (yield* store.readStream(stream)).map((s) => s.revision),
          Array.from({ length: 24 }, (_, i) => i)
        )
        // Not asserted to be above 0 (that depends on timing); logged to show the path was taken.
        yield* Effect.logDebug("conflicts", conflicts)
      })
    )
  )

  it.live(
    "an append from a transaction older than the stream's last append fails retryable; the log keeps each stream's revision order",
    () =>
      withStore(() =>
        Effect.gen(function* () {
          const store = yield* EventStore
          const stream = streamName("account", `order-${Math.random()}`)
          const event = () => makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id })
          yield* store.append(yield* makeBatch([event()]))
          const started = yield* Deferred.make<void>()
          const release = yield* Deferred.make<void>()
          // Takes its transaction id first (its write to another stream), appends to `stream` last.
          const early = yield* Effect.forkChild(
            Effect.flip(
              store.transaction(
                Effect.gen(function* () {
                  yield* store.append(yield* makeBatch([makeEvent()]))
                  yield* Deferred.succeed(started, undefined)
                  yield* Deferred.await(release)
                  yield* store.append(yield* makeBatch([event()]))
                })
              )
            )
          )
          yield* Deferred.await(started)
          yield* store.append(yield* makeBatch([event()]))
          yield* Deferred.succeed(release, undefined)
          const error = yield* Fiber.join(early)
          assert.strictEqual(error._tag, "StoreError")
          assert.isTrue(error._tag === "StoreError" && error.retryable, "retryable")
          assert.include(error.message, "a later transaction appended to this stream first")
          // Run again, as a new transaction: it appends after.
          yield* store.append(yield* makeBatch([event()]))
          const stored = yield* store.readStream(stream)
          assert.deepStrictEqual(
            stored.map((s) => s.revision),
            [0, 1, 2]
          )
          const mine = new Set(stored.map((s) => s.event.event_id))
          const log = yield* SubscriptionStore.use((s) => s.readAll(LogPosition.start, 100)).pipe(
            Effect.repeat({
              until: (events) => events.filter((e) => mine.has(e.event.event_id)).length === 3,
              schedule: Schedule.spaced("20 millis")
            }),
            Effect.timeout("60 seconds")
          )
          assert.deepStrictEqual(
            log.filter((e) => mine.has(e.event.event_id)).map((e) => e.revision),
            [0, 1, 2]
          )
        })
      )
  )
})
