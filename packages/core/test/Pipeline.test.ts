/**
 * Pipeline on the memory store, on the TestClock: routes given once both write outbox rows and
 * deliver; sources tick at their schedule; a close stops ingest before the relay drains; a loop
 * that ends on its own is logged with its source; bad descriptions fail `make`, naming the field.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Clock, DateTime, Deferred, Duration, Effect, Exit, Fiber, Layer, Logger, Scope } from "effect"
import { TestClock, TestConsole } from "effect/testing"
import { InvalidSettingError } from "../src/InvalidSetting.ts"
import { jsonLogger } from "../src/JsonLogger.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import * as Pipeline from "../src/Pipeline.ts"
import { DuplicateRouteError, type Route } from "../src/Routing.ts"
import type { Source } from "../src/Source.ts"
import { Sources } from "../src/Sources.ts"
import { delivered, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { MemoryTransport } from "../src/testing/MemoryTransport.ts"

const routes: ReadonlyArray<Route> = [{ name: "prices", transport: "memory", topic: "p", match: ["price.*"] }]

/** A source emitting one new `price.updated` per tick, recording when it was fetched. */
const counting = (name: string, pollInterval?: Duration.Duration) => {
  const fetchedAt: Array<number> = []
  const source: Source = {
    name,
    ...(pollInterval === undefined ? {} : { pollInterval }),
    fetch: Effect.map(Clock.currentTimeMillis, (now) => {
      fetchedAt.push(now)
      return { payloads: [{ content_type: "text/plain", body: String(now), request: null }], failures: [] }
    }),
    transform: (raw) =>
      Effect.succeed({
        events: [
          {
            event_type: "price.updated",
            entity_type: "instrument",
            entity_id: `${name}-${raw.body}`,
            occurred_at: DateTime.makeUnsafe(Number(raw.body)),
            payload: {}
          }
        ],
        issues: []
      })
  }
  return { source, fetchedAt }
}

/** Runs `body` with the pipeline started in a scope of its own, then closes it. */
const withStarted = <A, E, R>(pipeline: Pipeline.Pipeline, body: Effect.Effect<A, E, R>) =>
  Effect.scoped(Effect.andThen(Pipeline.start(pipeline), body))

describe("Pipeline", () => {
  it.effect("routes written once: ingest writes their outbox rows and the relay delivers them", () =>
    Effect.gen(function* () {
      const { source } = counting("a")
      const transport = yield* MemoryTransport
      const pipeline = yield* Pipeline.make({
        routes,
        sources: [{ source, every: "10 seconds" }],
        relay: { pollInterval: "100 millis" }
      })
      const ids = yield* withStarted(pipeline, Effect.andThen(TestClock.adjust("10 seconds"), transport.delivered))
      expect(ids.map((e) => [e.route, e.event.entity_id])).toEqual([
        ["prices", "a-0"],
        ["prices", "a-10000"]
      ])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"))))
  )

  it.effect("schedules each source at its `every`, else its own pollInterval, else every minute", () =>
    Effect.gen(function* () {
      const explicit = counting("explicit", Duration.seconds(5))
      const own = counting("own", Duration.seconds(30))
      const plain = counting("plain")
      const registered = counting("registered", Duration.seconds(20))
      const sources = yield* Sources
      yield* sources.register(registered.source)
      const pipeline = yield* Pipeline.make({
        routes,
        sources: [{ source: explicit.source, every: "10 seconds" }, own.source, plain.source, { source: "registered" }],
        relay: false
      })
      const handle = yield* withStarted(pipeline, Effect.as(TestClock.adjust("60 seconds"), undefined))
      assert.isUndefined(handle)
      expect(explicit.fetchedAt).toEqual([0, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000])
      expect(own.fetchedAt).toEqual([0, 30_000, 60_000])
      expect(plain.fetchedAt).toEqual([0, 60_000])
      expect(registered.fetchedAt).toEqual([0, 20_000, 40_000, 60_000])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"), Sources.layer)))
  )

  it.effect("without `sources`, ingests every registered source", () =>
    Effect.gen(function* () {
      const one = counting("one", Duration.seconds(10))
      const two = counting("two")
      const sources = yield* Sources
      yield* sources.register(one.source)
      yield* sources.register(two.source)
      const pipeline = yield* Pipeline.make({ routes, relay: false })
      const names = yield* withStarted(
        pipeline,
        Effect.andThen(
          TestClock.adjust("60 seconds"),
          Effect.sync(() => [one.fetchedAt.length, two.fetchedAt.length])
        )
      )
      expect(names).toEqual([7, 2])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"), Sources.layer)))
  )

  it.effect("a source name that is not registered fails start, naming it and the registered ones", () =>
    Effect.gen(function* () {
      yield* (yield* Sources).register(counting("known").source)
      const pipeline = yield* Pipeline.make({ routes, sources: [{ source: "unknown" }], relay: false })
      const error = yield* Effect.flip(withStarted(pipeline, Effect.void))
      expect(error.message).toBe('pipeline source "unknown" is not registered (registered: known)')
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"), Sources.layer)))
  )

  it.effect("a route whose transport is not registered fails start, unless this pipeline does not deliver", () =>
    Effect.gen(function* () {
      const { source, fetchedAt } = counting("a")
      const elsewhere = [{ name: "out", transport: "kafka", topic: "t", match: ["**"] }]
      const error = yield* Effect.flip(
        withStarted(yield* Pipeline.make({ routes: elsewhere, sources: [source] }), Effect.void)
      )
      expect(error.message).toBe('no transport named "kafka" (known: memory)')
      expect(fetchedAt).toEqual([])
      yield* withStarted(
        yield* Pipeline.make({ routes: elsewhere, sources: [source], relay: false }),
        TestClock.adjust("1 second")
      )
      expect(fetchedAt).toEqual([0])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, MemoryTransport.layer("memory"))))
  )

  // The graceful-shutdown e2e tests depend on this order: while the relay drains, no new rows come in.
  it.effect("closing stops ingest first, then lets the relay drain its batch in flight", () =>
    Effect.gen(function* () {
      const { source, fetchedAt } = counting("a")
      const publishing = yield* Deferred.make<void>()
      const slow: Transport = {
        name: "memory",
        publish: (envelopes) =>
          Deferred.succeed(publishing, undefined).pipe(
            Effect.andThen(Effect.sleep("5 seconds")),
            Effect.as(envelopes.map(() => delivered))
          )
      }
      const pipeline = yield* Pipeline.make({
        routes,
        sources: [{ source, every: "1 second" }],
        relay: { gracePeriod: "10 seconds" }
      })
      const scope = yield* Scope.make()
      const handle = yield* Pipeline.start(pipeline).pipe(
        Scope.provide(scope),
        Effect.provideService(Transports, Transports.makeOf([slow]))
      )
      expect(handle.sources).toEqual(["a"])
      yield* Deferred.await(publishing)
      const closing = yield* Effect.forkChild(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(closing)
      expect(fetchedAt).toEqual([0])
      const stats = yield* (yield* OutboxAdmin).stats
      expect(stats).toMatchObject({ delivered: 1, pending: 0 })
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("an ingest loop that ends on its own is logged with its source", () =>
    Effect.gen(function* () {
      const quitter: Source = { ...counting("quitter").source, fetch: Effect.interrupt }
      const pipeline = yield* Pipeline.make({ routes, sources: [quitter], relay: false })
      yield* withStarted(pipeline, TestClock.adjust("1 second"))
      const lines = (yield* TestConsole.logLines).map((line) => JSON.parse(String(line)) as Record<string, unknown>)
      expect(lines.filter((l) => l.level === "ERROR")).toMatchObject([
        { message: "ingest loop ended unexpectedly: this source is no longer ingested", source: "quitter" }
      ])
    }).pipe(
      Effect.provide(
        Layer.mergeAll(layerMemory, MemoryTransport.layer(), TestConsole.layer, Logger.layer([jsonLogger]))
      )
    )
  )

  it.effect("an ingest loop that dies (a defect) is logged with its source and the defect", () =>
    Effect.gen(function* () {
      // A registered source is only known at start: its unusable interval kills its loop.
      yield* (yield* Sources).register({ ...counting("broken").source, pollInterval: Duration.zero })
      const pipeline = yield* Pipeline.make({ routes, relay: false })
      yield* withStarted(pipeline, TestClock.adjust("1 second"))
      const lines = (yield* TestConsole.logLines).map((line) => JSON.parse(String(line)) as Record<string, unknown>)
      const errors = lines.filter((l) => l.level === "ERROR")
      expect(errors).toMatchObject([{ source: "broken" }])
      expect(String(errors[0]?.error)).toContain("ingest option interval")
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          layerMemory,
          MemoryTransport.layer(),
          Sources.layer,
          TestConsole.layer,
          Logger.layer([jsonLogger])
        )
      )
    )
  )

  it.effect("a stop at close is not logged as a loop ending", () =>
    Effect.gen(function* () {
      const pipeline = yield* Pipeline.make({ routes, sources: [counting("a").source], relay: false })
      yield* withStarted(pipeline, TestClock.adjust("1 second"))
      const lines = (yield* TestConsole.logLines).map((line) => JSON.parse(String(line)) as Record<string, unknown>)
      expect(lines.filter((l) => l.level === "ERROR")).toEqual([])
    }).pipe(
      Effect.provide(
        Layer.mergeAll(layerMemory, MemoryTransport.layer(), TestConsole.layer, Logger.layer([jsonLogger]))
      )
    )
  )

  it.effect("make rejects invalid routes, duplicate route names and options that cannot work, naming them", () =>
    Effect.gen(function* () {
      const { source } = counting("a")
      const duplicate = yield* Effect.flip(Pipeline.make({ routes: [...routes, ...routes] }))
      assert.instanceOf(duplicate, DuplicateRouteError)
      const every = yield* Effect.flip(Pipeline.make({ routes, sources: [{ source, every: "0 millis" }] }))
      assert.instanceOf(every, InvalidSettingError)
      expect(every.message).toBe('ingest (source a) option every: "0 millis" is under 1 millisecond')
      const lease = yield* Effect.flip(Pipeline.make({ routes, relay: { lease: "soon" as Duration.Input } }))
      expect(lease.message).toBe('relay option lease: "soon" is not a duration')
      const poll = yield* Effect.flip(Pipeline.make({ routes, relay: { pollInterval: 0 } }))
      expect(poll.message).toContain("relay option pollInterval")
      const pattern = yield* Effect.flip(
        Pipeline.make({ routes: [{ name: "r", transport: "memory", topic: "t", match: ["price..updated"] }] })
      )
      expect(pattern.message).toContain('at [0]["match"][0]')
      expect(pattern.message).toContain("a dotted pattern such as quote.* or **")
      const workers = yield* Effect.flip(Pipeline.make({ routes, relay: { workers: Number.NaN } }))
      expect(workers.message).toBe("relay option workers: NaN is not a finite number")
      // Checked with no routes too: no relay runs yet, but the setting is wrong all the same.
      const noRoutes = yield* Effect.flip(Pipeline.make({ routes: [], relay: { lease: "0 millis" } }))
      expect(noRoutes.message).toContain("relay option lease")
      // Not checked when the relay is turned off.
      yield* Pipeline.make({ routes, relay: false, sources: [source] })
    })
  )
})
