/**
 * Relay.start on a memory store: a graceful stop drains the batch in flight,
 * counts an attempt for a publish still in flight after the grace period, and never waits out an idle poll interval; a retry goes out
 * when its backoff ends, not at the next poll.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Deferred, Duration, Effect, Exit, Fiber } from "effect"
import { TestClock } from "effect/testing"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import { delivered, retryable, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"

const routes = [{ name: "r", transport: "slow", topic: "t", match: ["**"] }]

/** A store with `n` pending rows and a transport whose publish runs `publish` after signalling `started`. */
const setup = (n: number, publish: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const { eventStore: store, outboxQueue: queue, outboxAdmin: admin } = yield* MemoryEventStore.makeStores
    yield* store.append(
      yield* makeBatch(
        Array.from({ length: n }, () => makeEvent()),
        ["r"]
      )
    )
    const started = yield* Deferred.make<void>()
    const transport: Transport = {
      name: "slow",
      publish: (envelopes) =>
        Effect.andThen(Deferred.succeed(started, undefined), publish).pipe(Effect.as(envelopes.map(() => delivered)))
    }
    const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      effect.pipe(
        Effect.provideService(OutboxQueue, queue),
        Effect.provideService(Transports, Transports.makeOf([transport]))
      )
    return { store, admin, started, provide }
  })

// On the TestClock: nothing here depends on how fast the machine is. A stop that waited for
// something it should not (the poll interval, a publish past the grace period) would not end.
describe("Relay.start: graceful stop", () => {
  it.effect("stop lets the batch in flight finish, then claims nothing more", () =>
    Effect.gen(function* () {
      const { store, admin, started, provide } = yield* setup(5, Effect.sleep("300 millis"))
      const workers = yield* provide(Relay.start({ routes, workers: 2, gracePeriod: "10 seconds" }))
      yield* Deferred.await(started)
      const stopping = yield* Effect.forkChild(workers.stop)
      yield* TestClock.adjust("299 millis")
      assert.isUndefined(stopping.pollUnsafe(), "the stop waits for the publish in flight")
      yield* TestClock.adjust("1 millis")
      const { drained } = yield* Fiber.join(stopping)
      assert.isTrue(drained)
      const rows = yield* admin.listOutbox({})
      assert.deepStrictEqual(
        rows.map((r) => `${r.status} leased=${r.lease !== null}`),
        rows.map(() => "delivered leased=false")
      )
      // Rows appended after the stop stay pending: nobody claims any more, however long we wait.
      yield* store.append(yield* makeBatch([makeEvent()], ["r"]))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* admin.listOutbox({ status: "pending" })).length, 1)
    }).pipe(Effect.scoped)
  )

  // A request slower than the grace period may have reached the receiver: it counts an attempt, so
  // the redelivery after a restart says attempt 2, not attempt 1 again.
  it.effect("after the grace period a publish in flight counts a failed attempt; the redelivery is attempt 2", () =>
    Effect.gen(function* () {
      const { eventStore: store, outboxQueue: queue, outboxAdmin: admin } = yield* MemoryEventStore.makeStores
      yield* store.append(yield* makeBatch([makeEvent(), makeEvent()], ["r"]))
      const sent: Array<number> = []
      let hang = true
      const transport: Transport = {
        name: "slow",
        publish: (envelopes) =>
          Effect.gen(function* () {
            sent.push(...envelopes.map((e) => e.attempt))
            if (hang) return yield* Effect.never
            return envelopes.map(() => delivered)
          })
      }
      const provide = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(
          Effect.provideService(OutboxQueue, queue),
          Effect.provideService(Transports, Transports.makeOf([transport]))
        )
      const first = yield* provide(Relay.start({ routes, gracePeriod: "2 seconds" }))
      yield* TestClock.adjust("10 millis")
      assert.deepStrictEqual(sent, [1, 1])
      const stopping = yield* Effect.forkChild(first.stop)
      yield* TestClock.adjust("1999 millis")
      assert.isUndefined(stopping.pollUnsafe(), "the grace period is not over yet")
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(yield* Fiber.join(stopping), { drained: false })
      const rows = yield* admin.listOutbox({})
      assert.deepStrictEqual(
        rows.map((r) => [r.status, r.lease, r.attempts, r.last_error]),
        rows.map(() => ["pending", null, 1, "interrupted by shutdown after the grace period (2s)"])
      )
      // A new process: the rows go out again after their backoff, as attempt 2.
      hang = false
      yield* provide(Relay.start({ routes }))
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(sent, [1, 1, 2, 2])
      assert.deepStrictEqual(
        (yield* admin.listOutbox({})).map((r) => [r.status, r.attempts]),
        rows.map(() => ["delivered", 2])
      )
    }).pipe(Effect.scoped)
  )

  it.effect("stopping idle workers does not wait for the poll interval", () =>
    Effect.gen(function* () {
      const { provide } = yield* setup(0, Effect.void)
      const workers = yield* provide(Relay.start({ routes, workers: 3, pollInterval: "1 hour" }))
      // The workers found nothing and wait for work (or the poll interval).
      yield* TestClock.adjust("1 second")
      const stopping = yield* Effect.forkChild(workers.stop)
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(stopping.pollUnsafe(), Exit.succeed({ drained: true }))
    }).pipe(Effect.scoped)
  )

  it.effect("closing the scope stops the workers the same way", () =>
    Effect.gen(function* () {
      const { admin, started, provide } = yield* setup(2, Effect.sleep("200 millis"))
      const closing = yield* Effect.forkChild(
        Effect.scoped(
          Effect.gen(function* () {
            yield* provide(Relay.start({ routes, workers: 1 }))
            yield* Deferred.await(started)
          })
        )
      )
      yield* TestClock.adjust("200 millis")
      yield* Fiber.join(closing)
      const rows = yield* admin.listOutbox({})
      assert.deepStrictEqual(
        rows.map((r) => r.status),
        ["delivered", "delivered"]
      )
    })
  )
})

describe("Relay.start: retries", () => {
  /** A transport that answers each event's first attempt with a Retry-After from `delays` (by position), then accepts. */
  const flaky = (delays: ReadonlyArray<number>) => {
    const attempts: Array<{ readonly event: number; readonly at: number }> = []
    const order = new Map<string, number>()
    const transport: Transport = {
      name: "flaky",
      publish: (envelopes) =>
        Effect.gen(function* () {
          const at = yield* Clock.currentTimeMillis
          return envelopes.map((envelope) => {
            const id = envelope.event.event_id
            if (!order.has(id)) order.set(id, order.size)
            const event = order.get(id)!
            attempts.push({ event, at })
            return envelope.attempt === 1 ? retryable("busy", Duration.millis(delays[event]!)) : delivered
          })
        })
    }
    return { attempts, transport }
  }

  const run = (delays: ReadonlyArray<number>) =>
    Effect.gen(function* () {
      const { attempts, transport } = flaky(delays)
      const { eventStore: store, outboxQueue: queue, outboxAdmin: admin } = yield* MemoryEventStore.makeStores
      yield* store.append(
        yield* makeBatch(
          delays.map(() => makeEvent()),
          ["r"]
        )
      )
      yield* Relay.start({ routes: [{ ...routes[0]!, transport: "flaky" }], pollInterval: "1 minute" }).pipe(
        Effect.provideService(OutboxQueue, queue),
        Effect.provideService(Transports, Transports.makeOf([transport]))
      )
      return { attempts, admin }
    })

  it.effect("a retry goes out when its backoff ends (rounded up to 25 ms), not at the next poll", () =>
    Effect.gen(function* () {
      const { attempts, admin } = yield* run([300])
      yield* TestClock.adjust(Duration.millis(299))
      assert.deepStrictEqual(attempts, [{ event: 0, at: 0 }], "not before the backoff ends")
      yield* TestClock.adjust(Duration.millis(26))
      assert.deepStrictEqual(attempts, [
        { event: 0, at: 0 },
        { event: 0, at: 325 }
      ])
      assert.deepStrictEqual(
        (yield* admin.listOutbox({})).map((r) => r.status),
        ["delivered"]
      )
    }).pipe(Effect.scoped)
  )

  it.effect("every retry of a batch is woken for, not only the earliest", () =>
    Effect.gen(function* () {
      const { attempts } = yield* run([300, 5_000])
      yield* TestClock.adjust(Duration.seconds(6))
      assert.deepStrictEqual(attempts, [
        { event: 0, at: 0 },
        { event: 1, at: 0 },
        { event: 0, at: 325 },
        { event: 1, at: 5_025 }
      ])
    }).pipe(Effect.scoped)
  )
})
