import { assert, describe, expect, it } from "@effect/vitest"
import { Clock, DateTime, Effect, Fiber, Layer, Logger, Option } from "effect"
import { Hex } from "effect/encoding"
import { TestClock, TestConsole } from "effect/testing"
import { ContentHash } from "../src/ContentHash.ts"
import { EventStore } from "../src/EventStore.ts"
import * as Ingest from "../src/Ingest.ts"
import { sha256, utf8 } from "../src/internal/hash.ts"
import { jsonLogger } from "../src/JsonLogger.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import { type EventDraft, type FetchResult, type Source, SourceError, TransformError } from "../src/Source.ts"

const router = makeRouterUnsafe([
  { name: "quotes", transport: "memory", topic: "quotes", match: ["quote.*"] },
  { name: "ordered", transport: "memory", topic: "all", match: ["**"], ordered: true }
])

const quote = (symbol: string, price: unknown, minute: number): EventDraft => ({
  event_type: "quote.updated",
  entity_type: "instrument",
  entity_id: symbol,
  occurred_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 15, minute)),
  payload: { price },
  natural_key: `${symbol}@${minute}`
})

/** A source that answers with `body` and turns it into drafts with `transform`. */
const source = (
  transform: Source["transform"],
  fetch: Effect.Effect<FetchResult, SourceError> = Effect.succeed({
    payloads: [{ content_type: "application/json", body: '{"q":1}', request: { symbols: ["AAPL"] } }],
    failures: []
  })
): Source => ({ name: "test-source", fetch, transform })

const rawOf = (store: EventStore["Service"], id: string) => Effect.map(store.getRaw(id as never), Option.getOrThrow)

describe("ingest pipeline", () => {
  it.effect("stores the raw payload, the events and one outbox row per matching route, in one append", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const src = source(() =>
        Effect.succeed({
          events: [quote("AAPL", 187.5, 30), { ...quote("AAPL", 0, 31), event_type: "bar.closed" }],
          issues: []
        })
      )
      const report = yield* Ingest.tick(src, router)
      const [payload] = report.payloads
      expect(payload).toMatchObject({ appended: 2, duplicates: 0, outboxRows: 3, issues: [] })
      const raw = yield* rawOf(store, payload!.rawId)
      expect(raw).toMatchObject({ body: '{"q":1}', request: { symbols: ["AAPL"] }, transform_error: null })
      expect(raw.content_hash).toBe(Hex.encode(sha256(utf8('{"q":1}'))))
      const events = yield* store.readEvents(0, 10)
      expect(events.map((e) => e.event.event_type)).toEqual(["quote.updated", "bar.closed"])
      assert.isTrue(events.every((e) => e.event.trace_id === raw.trace_id && e.raw_id === raw.raw_id))
      const rows = yield* admin.listOutbox({})
      expect(rows.map((r) => [r.route, r.ordering_key])).toEqual([
        ["quotes", null],
        ["ordered", "instrument:AAPL"],
        ["ordered", "instrument:AAPL"]
      ])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("the content hash comes from the ContentHash in the context (a runtime's native digest)", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const src = source(() => Effect.succeed({ events: [quote("AAPL", 1, 30)], issues: [] }))
      const report = yield* Ingest.tick(src, router).pipe(
        Effect.provideService(ContentHash, (text) => `hashed ${text.length} characters`)
      )
      expect((yield* rawOf(store, report.payloads[0]!.rawId)).content_hash).toBe("hashed 7 characters")
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("fetching the same data twice creates no new events or outbox rows", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const src = source(() => Effect.succeed({ events: [quote("AAPL", 1, 30), quote("MSFT", 2, 30)], issues: [] }))
      yield* Ingest.tick(src, router)
      const second = yield* Ingest.tick(src, router)
      expect(second.payloads[0]).toMatchObject({ appended: 0, duplicates: 2, outboxRows: 0 })
      expect((yield* store.readEvents(0, 10)).length).toBe(2)
      expect((yield* admin.stats).pending).toBe(4)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a payload that fails to transform is kept with the reason, and nothing else is stored", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const src = source(() => Effect.fail(new TransformError({ reason: "expected an object at .quoteResponse" })))
      const report = yield* Ingest.tick(src, router)
      expect(report.payloads[0]!.issues).toEqual(["expected an object at .quoteResponse"])
      const raw = yield* rawOf(store, report.payloads[0]!.rawId)
      expect(raw.transform_error).toBe("expected an object at .quoteResponse")
      expect(raw.body).toBe('{"q":1}')
      expect((yield* store.readEvents(0, 10)).length).toBe(0)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("an invalid draft is left out with a reason naming the field; the valid ones are stored", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const src = source(() =>
        Effect.succeed({
          events: [quote("AAPL", 1, 30), { ...quote("", 2, 31) }, { ...quote("MSFT", 3, 32), schema_version: 0 }],
          issues: ["row 7 had no close price"]
        })
      )
      const report = yield* Ingest.tick(src, router)
      const [payload] = report.payloads
      expect(payload!.appended).toBe(1)
      expect(payload!.issues).toHaveLength(3)
      expect(payload!.issues[0]).toBe("row 7 had no close price")
      expect(payload!.issues[1]).toContain(`["entity_id"]`)
      expect(payload!.issues[2]).toContain(`["schema_version"]`)
      const raw = yield* rawOf(store, payload!.rawId)
      expect(raw.transform_error).toContain(`["entity_id"]`)
      expect(raw.transform_error).toContain("row 7 had no close price")
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a transformer that throws is a transform failure: the raw payload is kept with the reason", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const src = source((raw) => Effect.sync(() => JSON.parse(`<html>${raw.body}`)))
      const report = yield* Ingest.tick(src, router)
      expect(report.payloads[0]!.issues[0]).toContain("transformer crashed: SyntaxError")
      const raw = yield* rawOf(store, report.payloads[0]!.rawId)
      expect(raw.transform_error).toContain("transformer crashed")
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("run keeps its interval after a non-retryable failure, and survives a defect", () =>
    Effect.gen(function* () {
      const calls: Array<number> = []
      const broken = source(
        () => Effect.succeed({ events: [], issues: [] }),
        Effect.gen(function* () {
          calls.push(yield* Clock.currentTimeMillis)
          if (calls.length === 2) return yield* Effect.die(new Error("bug"))
          return yield* new SourceError({ source: "s", reason: "HTTP 401", retryable: false })
        })
      )
      const fiber = yield* Effect.forkChild(Ingest.run(broken, router, { interval: "10 seconds" }))
      for (let i = 0; i < 5; i++) yield* TestClock.adjust("10 seconds")
      yield* Fiber.interrupt(fiber)
      // 401 at 0 (no backoff), defect at 10 (retryable: waits 20 s), 401 at 30, then every 10 s
      expect(calls).toEqual([0, 10_000, 30_000, 40_000, 50_000])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("partial fetch failures are reported while the rest ingests; a failed fetch fails the tick", () =>
    Effect.gen(function* () {
      const partial = source(
        () => Effect.succeed({ events: [quote("AAPL", 1, 30)], issues: [] }),
        Effect.succeed({
          payloads: [{ content_type: "application/json", body: "{}", request: null }],
          failures: [{ subject: "NOPE", reason: "unknown symbol", retryable: false }]
        })
      )
      const report = yield* Ingest.tick(partial, router)
      expect(report.fetchFailures).toEqual([{ subject: "NOPE", reason: "unknown symbol", retryable: false }])
      expect(report.payloads[0]!.appended).toBe(1)
      const down = source(
        () => Effect.succeed({ events: [], issues: [] }),
        Effect.fail(new SourceError({ source: "test-source", reason: "HTTP 503", retryable: true }))
      )
      const error = yield* Effect.flip(Ingest.tick(down, router))
      expect(error._tag).toBe("SourceError")
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("run ticks on its interval and backs off, doubling, after failed ticks", () =>
    Effect.gen(function* () {
      const calls: Array<number> = []
      let failing = true
      const flaky = source(
        () => Effect.succeed({ events: [], issues: [] }),
        Effect.gen(function* () {
          calls.push(yield* Clock.currentTimeMillis)
          if (failing) return yield* new SourceError({ source: "s", reason: "down", retryable: true })
          return { payloads: [], failures: [] }
        })
      )
      const fiber = yield* Effect.forkChild(Ingest.run(flaky, router, { interval: "10 seconds" }))
      // failures at t=0, 20 and 60 (waits of 20 s, 40 s, 80 s), success at 140, then every 10 s
      yield* TestClock.adjust("10 seconds")
      yield* TestClock.adjust("20 seconds")
      yield* TestClock.adjust("40 seconds")
      failing = false
      yield* TestClock.adjust("80 seconds")
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.interrupt(fiber)
      expect(calls).toEqual([0, 20_000, 60_000, 140_000, 150_000, 160_000])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("each tick logs what it found; a tick finding only stored events says so instead of looking hung", () =>
    Effect.gen(function* () {
      const src = source(() => Effect.succeed({ events: [quote("AAPL", 1, 30), quote("MSFT", 2, 30)], issues: [] }))
      const fiber = yield* Effect.forkChild(Ingest.run(src, router, { interval: "10 seconds" }))
      yield* TestClock.adjust("10 seconds")
      yield* TestClock.adjust("10 seconds")
      yield* Fiber.interrupt(fiber)
      const ticks = (yield* TestConsole.logLines)
        .map((line) => JSON.parse(String(line)) as Record<string, unknown>)
        .filter((line) => String(line.message).startsWith("fetched"))
      expect(ticks).toMatchObject([
        {
          level: "INFO",
          message: "fetched 1 payload: 2 new events, 0 duplicates",
          source: "test-source",
          payloads: 1,
          events: 2,
          duplicates: 0
        },
        {
          level: "INFO",
          message: "fetched 1 payload: all 2 events already stored (duplicates), nothing new to deliver",
          events: 0,
          duplicates: 2
        },
        { message: "fetched 1 payload: all 2 events already stored (duplicates), nothing new to deliver" }
      ])
    }).pipe(Effect.provide(Layer.mergeAll(layerMemory, TestConsole.layer, Logger.layer([jsonLogger]))))
  )
})
