/**
 * The relay on the memory store: delivery with several workers, wake-ups, retries and dead letters,
 * the outcomes a transport returns (also a broken contract), a defect in a batch, other routes.
 */
import { describe, expect, expectTypeOf, it } from "@effect/vitest"
import { Clock, DateTime, Duration, Effect, Fiber, Layer, Random, type Scope } from "effect"
import { TestClock } from "effect/testing"
import { EventStore, type StoreError } from "../src/EventStore.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import { defaultRetryPolicy, delayCeilingMs } from "../src/RetryPolicy.ts"
import { delivered, notSent, permanent, retryable, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import * as MemoryTransportModule from "../src/testing/MemoryTransport.ts"
import { MemoryTransport } from "../src/testing/MemoryTransport.ts"
import { onlyRow, options, scripted } from "./fixtures/relay.ts"

describe("relay pipeline", () => {
  // The relay depends on the outbox's queue port only: no event log, no admin port.
  it.effect("runs with only a store's OutboxQueue (and transports) provided", () =>
    Effect.gen(function* () {
      const stores = yield* MemoryEventStore.makeStores
      yield* stores.eventStore.append(yield* makeBatch([makeEvent(), makeEvent()]))
      const memory = yield* MemoryTransportModule.make("memory")
      const report = yield* Relay.runOnce(options).pipe(
        Effect.provideService(OutboxQueue, stores.outboxQueue),
        Effect.provideService(Transports, Transports.makeOf([memory.transport]))
      )
      expect(report.delivered).toBe(2)
      expect((yield* stores.outboxAdmin.stats).delivered).toBe(2)
      expectTypeOf(Relay.runOnce).returns.toEqualTypeOf<
        Effect.Effect<Relay.BatchReport, StoreError, OutboxQueue | Transports>
      >()
      expectTypeOf(Relay.start).returns.toEqualTypeOf<
        Effect.Effect<Relay.RelayHandle, never, OutboxQueue | Transports | Scope.Scope>
      >()
      expectTypeOf(Relay.run).returns.toEqualTypeOf<Effect.Effect<never, never, OutboxQueue | Transports>>()
    })
  )

  it.effect("delivers every event exactly once when nothing fails, with several workers", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const memory = yield* MemoryTransport
      const events = Array.from({ length: 250 }, () => makeEvent())
      for (let i = 0; i < events.length; i += 50) yield* store.append(yield* makeBatch(events.slice(i, i + 50)))
      const relay = yield* Effect.forkChild(Relay.run({ ...options, workers: 3, batchSize: 20 }))
      for (let i = 0; i < 20; i++) yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(relay)
      const published = (yield* memory.published).map((e) => e.event.event_id)
      expect(published.length).toBe(250)
      expect(new Set(published).size).toBe(250)
      expect(new Set(published)).toEqual(new Set(events.map((e) => e.event_id)))
      expect((yield* admin.stats).delivered).toBe(250)
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"))))
  )

  it.effect("wakes on append instead of waiting for the poll interval", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const memory = yield* MemoryTransport
      const relay = yield* Effect.forkChild(Relay.run({ ...options, pollInterval: "1 hour" }))
      yield* TestClock.adjust("1 second")
      yield* store.append(yield* makeBatch([makeEvent()]))
      yield* TestClock.adjust("10 millis")
      expect((yield* memory.delivered).length).toBe(1)
      yield* Fiber.interrupt(relay)
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"))))
  )

  for (const seed of ["a", "b", "c", "d"]) {
    it.effect(
      `retries with full-jitter delays inside the bounds, then dead-letters after exactly 5 attempts (seed ${seed})`,
      () => {
        const { seen, layer } = scripted(() => Effect.succeed(retryable("HTTP 503")))
        return Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.append(yield* makeBatch([makeEvent()]))
          for (let attempt = 1; attempt <= 5; attempt++) {
            const before = yield* Clock.currentTimeMillis
            const report = yield* Relay.runOnce(options)
            expect(report.claimed).toBe(1)
            const row = yield* onlyRow
            expect(row.attempts).toBe(attempt)
            if (attempt < 5) {
              expect(row.status).toBe("pending")
              const delay = DateTime.toEpochMillis(row.next_attempt_at) - before
              expect(delay).toBeGreaterThanOrEqual(0)
              expect(delay).toBeLessThanOrEqual(delayCeilingMs(defaultRetryPolicy, attempt))
              // not claimable a millisecond early (unless the jitter drew zero)
              if (delay > 0) {
                yield* TestClock.adjust(Duration.millis(delay - 1))
                expect((yield* Relay.runOnce(options)).claimed).toBe(0)
                yield* TestClock.adjust("1 millis")
              }
            } else {
              expect(row.status).toBe("dead")
              expect(row.last_error).toBe("gave up after 5 attempts: HTTP 503")
            }
          }
          expect(seen.map((s) => s.envelope.attempt)).toEqual([1, 2, 3, 4, 5])
          yield* TestClock.adjust("1 day")
          expect((yield* Relay.runOnce(options)).claimed).toBe(0)
        }).pipe(Random.withSeed(seed), Effect.provide(layer))
      }
    )
  }

  it.effect("a permanent failure is dead at once, with the reason", () => {
    const { seen, layer } = scripted(() => Effect.succeed(permanent("HTTP 400: bad payload")))
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()]))
      const report = yield* Relay.runOnce(options)
      expect(report).toMatchObject({ claimed: 1, dead: 1, retried: 0 })
      const row = yield* onlyRow
      expect([row.status, row.attempts, row.last_error]).toEqual(["dead", 1, "permanent: HTTP 400: bad payload"])
      expect(seen).toHaveLength(1)
    }).pipe(Effect.provide(layer))
  })

  it.effect("NotSent rows go back to pending at once with no attempt counted; the others are recorded", () => {
    let n = 0
    const { layer } = scripted(() => Effect.succeed(n++ === 0 ? delivered : notSent("deadline passed")))
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()]))
      const report = yield* Relay.runOnce(options)
      expect(report).toMatchObject({ claimed: 3, delivered: 1, released: 2, retried: 0 })
      const rows = yield* admin.listOutbox({ status: "pending" })
      expect(rows.map((r) => [r.attempts, r.lease, r.last_error])).toEqual([
        [0, null, null],
        [0, null, null]
      ])
      expect((yield* Relay.runOnce(options)).claimed).toBe(2)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a publish that sent nothing at all counts an attempt, so it cannot loop forever", () => {
    const { layer } = scripted(() => Effect.succeed(notSent("deadline passed")))
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()]))
      const report = yield* Relay.runOnce(options)
      expect(report).toMatchObject({ claimed: 1, released: 0, retried: 1 })
      const row = yield* onlyRow
      expect([row.attempts, row.last_error]).toEqual([1, "nothing was sent: deadline passed"])
    }).pipe(Effect.provide(layer))
  })

  it.effect("Retry-After is honoured exactly", () => {
    const { layer } = scripted(() => Effect.succeed(retryable("HTTP 429", Duration.seconds(42))))
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* TestClock.setTime(1_000_000)
      yield* store.append(yield* makeBatch([makeEvent()]))
      yield* Relay.runOnce(options)
      const row = yield* onlyRow
      expect(DateTime.toEpochMillis(row.next_attempt_at)).toBe(1_042_000)
    }).pipe(Effect.provide(layer))
  })

  it.effect("a transport that dies or breaks its contract yields retries, not a crash", () => {
    let calls = 0
    const broken: Transport = {
      name: "memory",
      publish: (envelopes) =>
        ++calls === 1
          ? Effect.die(new Error("socket exploded"))
          : Effect.succeed(envelopes.slice(1).map(() => delivered))
    }
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()]))
      const first = yield* Relay.runOnce(options)
      expect(first.retried).toBe(1)
      expect((yield* onlyRow).last_error).toContain("socket exploded")
      yield* TestClock.adjust("1 hour")
      const second = yield* Relay.runOnce(options)
      expect(second.retried).toBe(1)
      expect((yield* onlyRow).last_error).toContain("returned 0 outcomes for 1 envelopes")
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, Transports.layerOf(broken))))
  })

  it.effect("too few outcomes, all NotSent, still count as a broken contract, not a crash", () => {
    const short: Transport = {
      name: "memory",
      publish: (envelopes) => Effect.succeed(envelopes.slice(1).map(() => notSent("deadline passed")))
    }
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
      const report = yield* Relay.runOnce(options)
      expect(report).toMatchObject({ claimed: 2, retried: 2, released: 0 })
      const rows = yield* admin.listOutbox({})
      expect(rows.map((r) => r.last_error)).toEqual([
        "transport memory returned 1 outcomes for 2 envelopes",
        "transport memory returned 1 outcomes for 2 envelopes"
      ])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, Transports.layerOf(short))))
  })

  it.effect("a defect in a batch is logged and the relay keeps going", () => {
    let calls = 0
    const flaky: Transport = {
      name: "memory",
      publish: (envelopes) => Effect.succeed(envelopes.map(() => delivered))
    }
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent()]))
      const relay = yield* Effect.forkChild(Relay.run({ ...options, pollInterval: "1 second" }))
      yield* TestClock.adjust("5 seconds")
      expect(calls).toBeGreaterThanOrEqual(2)
      expect((yield* admin.stats).delivered).toBe(1)
      yield* Fiber.interrupt(relay)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          Layer.effectContext(
            Effect.map(MemoryEventStore.makeStores, (stores) =>
              MemoryEventStore.toContext({
                ...stores,
                // The first claim dies (a bug in an adapter); later ones work.
                outboxQueue: OutboxQueue.of({
                  ...stores.outboxQueue,
                  claim: (o) => (++calls === 1 ? Effect.die(new Error("adapter bug")) : stores.outboxQueue.claim(o))
                })
              })
            )
          ),
          Transports.layerOf(flaky)
        )
      )
    )
  })

  it.effect("rows of routes the relay does not serve are left alone", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const memory = yield* MemoryTransport
      yield* store.append(yield* makeBatch([makeEvent()], ["default", "elsewhere"]))
      yield* Relay.runOnce(options)
      expect((yield* memory.published).map((e) => e.route)).toEqual(["default"])
      expect((yield* admin.stats).byRoute.elsewhere?.pending).toBe(1)
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"))))
  )
})
