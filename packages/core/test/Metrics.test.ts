/**
 * Every series a running relay, ingest loop or subscription can update exists from its start at 0,
 * so a Prometheus `increase()` sees the first failure (a counter that appears at 1 has no increase).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Metric } from "effect"
import * as Ingest from "../src/Ingest.ts"
import { layerMemory, makeStores } from "../src/MemoryEventStore.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import type { Source } from "../src/Source.ts"
import * as Subscription from "../src/Subscription.ts"
import { Transports } from "../src/Transports.ts"

/** The registered series of `name` labelled `key=value`, read without registering anything. */
const series = (name: string, key: string, value: string) =>
  Effect.map(Metric.snapshot, (all) =>
    all.filter((s) => s.id === name && s.attributes?.[key] === value).map((s) => s.state)
  )

const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`

describe("metrics start at 0", () => {
  it.effect("a relay registers its routes' counters and histograms when it starts", () =>
    Effect.gen(function* () {
      const route = unique("route")
      assert.deepStrictEqual(yield* series("sluice_dead_lettered_total", "route", route), [])
      const stores = yield* makeStores
      yield* Relay.start({ routes: [{ name: route, transport: "none", topic: "t", match: ["**"] }] }).pipe(
        Effect.provideService(OutboxQueue, stores.outboxQueue),
        Effect.provideService(Transports, Transports.makeOf([]))
      )
      for (const name of ["sluice_delivered_total", "sluice_retried_total", "sluice_dead_lettered_total"]) {
        const states = yield* series(name, "route", route)
        assert.strictEqual(states.length, 1, name)
        assert.deepInclude(states[0], { count: 0 })
      }
      assert.strictEqual((yield* series("sluice_delivery_lag_seconds", "route", route)).length, 1)
      assert.strictEqual((yield* series("sluice_publish_duration_seconds", "route", route)).length, 1)
    }).pipe(Effect.scoped)
  )

  it.effect("an ingest loop registers its source's counters before its first tick ends", () =>
    Effect.gen(function* () {
      const name = unique("source")
      const source: Source = {
        name,
        fetch: Effect.never,
        transform: () => Effect.succeed({ events: [], issues: [] })
      }
      const fiber = yield* Effect.forkChild(Ingest.run(source, makeRouterUnsafe([]), { interval: "1 minute" }))
      yield* Effect.yieldNow
      for (const metric of [
        "sluice_fetch_failures_total",
        "sluice_transform_failures_total",
        "sluice_raw_payloads_total"
      ]) {
        const states = yield* series(metric, "source", name)
        assert.strictEqual(states.length, 1, metric)
        assert.deepInclude(states[0], { count: 0 })
      }
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a subscription registers its counters when it starts", () =>
    Effect.gen(function* () {
      const name = unique("subscription")
      yield* Subscription.start({ name, handle: () => Effect.void })
      const failures = yield* series("sluice_subscription_batch_failures_total", "subscription", name)
      assert.strictEqual(failures.length, 1)
      assert.deepInclude(failures[0], { count: 0 })
    }).pipe(Effect.scoped, Effect.provide(layerMemory))
  )
})
