/**
 * A route's `rateLimit`: the relay publishes at most that many events per second on it (bursts of
 * one second's worth), wakes up when the next token comes rather than at the next poll, and other
 * routes are not held back. On the TestClock: the counts do not depend on the machine's speed.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import * as RateLimiter from "../src/internal/RateLimiter.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import { delivered, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"

describe("route rate limits", () => {
  it.effect("a limited route goes at its rate, an unlimited one at once", () =>
    Effect.gen(function* () {
      const { eventStore: store, outboxQueue: queue } = yield* MemoryEventStore.makeStores
      const events = Array.from({ length: 40 }, () => makeEvent())
      yield* store.append(yield* makeBatch(events, ["slow", "fast"]))
      const sent: Record<string, number> = { slow: 0, fast: 0 }
      const transport: Transport = {
        name: "t",
        publish: (envelopes) =>
          Effect.sync(() => {
            for (const e of envelopes) sent[e.route]! += 1
            return envelopes.map(() => delivered)
          })
      }
      const routes = [
        { name: "slow", transport: "t", topic: "t", match: ["**"], rateLimit: 10 },
        { name: "fast", transport: "t", topic: "t", match: ["**"] }
      ]
      yield* Relay.start({ routes, workers: 2, pollInterval: "1 hour" }).pipe(
        Effect.provideService(OutboxQueue, queue),
        Effect.provideService(Transports, Transports.makeOf([transport]))
      )
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(sent, { slow: 10, fast: 40 }, "a burst of one second's worth, the other route whole")
      yield* TestClock.adjust("1 second")
      // Wake-ups come on a 25 ms grid (DueTimes.ts): the tenth token's claim may fall just after.
      assert.include([19, 20], sent.slow, "about 10 more a second later, without waiting for the poll")
      yield* TestClock.adjust("3 seconds")
      assert.strictEqual(sent.slow, 40, "and the rest")
    }).pipe(Effect.scoped)
  )

  it("the limiter refills continuously up to one second's worth", () => {
    const limiter = RateLimiter.make(4)
    assert.strictEqual(limiter.available(0), 4)
    limiter.take(0, 4)
    assert.strictEqual(limiter.available(0), 0)
    assert.strictEqual(limiter.nextAt(0), 250)
    assert.strictEqual(limiter.available(500), 2)
    assert.strictEqual(limiter.available(10_000), 4, "capped at one second's worth")
    const slow = RateLimiter.make(0.5)
    assert.strictEqual(slow.available(0), 1, "at least one event")
    slow.take(0, 1)
    assert.strictEqual(slow.nextAt(0), 2000)
  })
})
