/**
 * The relay when it is interrupted or too slow: rows handed to the transport count an attempt, rows
 * it never had are released, recorded outcomes stay, a late result after the lease ran out is
 * refused, and a shutdown keeps what one route finished while another was still publishing.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../src/EventStore.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import type { Route } from "../src/Routing.ts"
import { delivered, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import { MemoryTransport } from "../src/testing/MemoryTransport.ts"
import { onlyRow, options, scripted } from "./fixtures/relay.ts"

describe("relay: interruptions, leases and shutdown", () => {
  // The transport had the rows: a request may have reached the receiver, so the next one must carry
  // attempt 2, not 1 again.
  it.effect("interrupting a relay mid-publish counts a failed attempt for the rows handed to the transport", () => {
    const { layer } = scripted(() => Effect.never)
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
      const fiber = yield* Effect.forkChild(Relay.runOnce(options))
      yield* TestClock.adjust("1 second")
      expect((yield* admin.stats).leased).toBe(2)
      yield* Fiber.interrupt(fiber)
      const stats = yield* admin.stats
      expect([stats.pending, stats.leased]).toEqual([2, 0])
      const rows = yield* admin.listOutbox({})
      expect(rows.map((r) => [r.attempts, r.lease, r.last_error])).toEqual(
        rows.map(() => [1, null, "publish interrupted before its outcomes were known"])
      )
    }).pipe(Effect.provide(layer))
  })

  it.effect("interrupting a relay before its transport has the rows releases them without counting an attempt", () => {
    // A transport registry whose lookup never answers: the rows are claimed but never handed over.
    const stuck = Transports.of({ ...Transports.makeOf([]), get: () => Effect.never })
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
      const fiber = yield* Effect.forkChild(Relay.runOnce(options))
      yield* TestClock.adjust("1 second")
      expect((yield* admin.stats).leased).toBe(2)
      yield* Fiber.interrupt(fiber)
      const rows = yield* admin.listOutbox({})
      expect(rows.map((r) => [r.status, r.attempts, r.lease])).toEqual(rows.map(() => ["pending", 0, null]))
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, Layer.succeed(Transports, stuck))))
  })

  it.effect("once outcomes are in, an interruption still records them", () => {
    // A store whose `complete` is slow, so the interruption lands while results are being written.
    const slowComplete = Layer.effectContext(
      Effect.map(MemoryEventStore.makeStores, (stores) =>
        MemoryEventStore.toContext({
          ...stores,
          outboxQueue: OutboxQueue.of({
            ...stores.outboxQueue,
            complete: (results) => Effect.andThen(Effect.sleep("1 second"), stores.outboxQueue.complete(results))
          })
        })
      )
    )
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent()]))
      const fiber = yield* Effect.forkChild(Relay.runOnce(options))
      yield* TestClock.adjust("10 millis")
      const interrupting = yield* Effect.forkChild(Fiber.interrupt(fiber))
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(interrupting)
      expect((yield* admin.stats).delivered).toBe(1)
    }).pipe(Effect.provide(Layer.mergeAll(slowComplete, MemoryTransport.layer("memory"))))
  })

  it.effect("a worker whose lease expired mid-publish has its late result refused; the row is not lost", () => {
    let call = 0
    const { seen, layer } = scripted(() =>
      ++call === 1 ? Effect.as(Effect.sleep("90 seconds"), delivered) : Effect.succeed(delivered)
    )
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()]))
      // A frozen worker (SIGSTOP): its publish timeout cannot fire, so its lease runs out.
      const slow = yield* Effect.forkChild(
        Relay.runOnce({ ...options, owner: "slow", lease: "30 seconds", publishTimeout: "1 hour" })
      )
      yield* TestClock.adjust("31 seconds")
      const fast = yield* Relay.runOnce({ ...options, owner: "fast" })
      expect(fast.delivered).toBe(1)
      yield* TestClock.adjust("60 seconds")
      const late = yield* Fiber.join(slow)
      expect(late).toMatchObject({ claimed: 1, delivered: 0, stale: 1 })
      const row = yield* onlyRow
      expect([row.status, row.attempts]).toEqual(["delivered", 1])
      expect(seen).toHaveLength(2)
    }).pipe(Effect.provide(layer))
  })

  it.effect(
    "a receiver slower than the lease costs an attempt each time, so retries still end in a dead letter",
    () => {
      const { seen, layer } = scripted(() => Effect.never)
      return Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()]))
        for (let attempt = 1; attempt <= 5; attempt++) {
          const fiber = yield* Effect.forkChild(Relay.runOnce({ ...options, lease: "10 seconds" }))
          yield* TestClock.adjust("8 seconds")
          const report = yield* Fiber.join(fiber)
          expect(report).toMatchObject({ claimed: 1, stale: 0 })
          yield* TestClock.adjust("10 minutes")
        }
        const row = yield* onlyRow
        expect([row.status, row.attempts]).toEqual(["dead", 5])
        expect(row.last_error).toContain("publish took longer than")
        expect(seen).toHaveLength(5)
      }).pipe(Effect.provide(layer))
    }
  )

  it.effect("shutdown: a route that finished keeps its deliveries, a route still publishing counts an attempt", () => {
    const fast: Transport = { name: "fast", publish: (envelopes) => Effect.succeed(envelopes.map(() => delivered)) }
    const slow: Transport = { name: "slow", publish: () => Effect.never }
    const twoRoutes: ReadonlyArray<Route> = [
      { name: "a", transport: "fast", topic: "a", match: ["**"] },
      { name: "b", transport: "slow", topic: "b", match: ["**"] }
    ]
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      yield* store.append(yield* makeBatch([makeEvent()], ["a", "b"]))
      const fiber = yield* Effect.forkChild(Relay.runOnce({ routes: twoRoutes }))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(fiber)
      const stats = yield* admin.stats
      expect(stats.byRoute.a).toMatchObject({ delivered: 1, pending: 0 })
      expect(stats.byRoute.b).toMatchObject({ delivered: 0, pending: 1, leased: 0 })
      const rows = yield* admin.listOutbox({})
      expect(rows.map((r) => [r.route, r.attempts])).toEqual([
        ["a", 1],
        ["b", 1]
      ])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, Transports.layerOf(fast, slow))))
  })
})
