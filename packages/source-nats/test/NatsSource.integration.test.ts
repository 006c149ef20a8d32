/**
 * The source against the local JetStream, with the memory store: messages become events and raw
 * payloads; acks only after the commit; a redelivery is a duplicate; a poison message is kept and
 * acked; two runners on one durable share its messages; the runner's pipelined loop loses nothing
 * when the store fails.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { EventStore, Ingest, layerMemory, makeRouterUnsafe, RawPayloadStore, type Source } from "@sluice/core"
import { layerMemoryFailingAppends } from "@sluice/core/testing"
import { Effect, Fiber, Ref } from "effect"
import type { NatsSourceConfig } from "../src/Config.ts"
import { make } from "../src/NatsSource.ts"
import { natsUrl, type TestStream, testStream, uniqueName } from "./jetstream.ts"

const router = makeRouterUnsafe([{ name: "all", transport: "memory", topic: "all", match: ["**"] }])

const config = (stream: TestStream, overrides: Partial<NatsSourceConfig> = {}): NatsSourceConfig => ({
  servers: [natsUrl],
  stream: stream.stream,
  consumer: uniqueName("durable"),
  idleWait: "1 second",
  mapping: { eventType: "order.placed", entityType: "order" },
  ...overrides
})

const source = (c: NatsSourceConfig, instance = "orders") => make(c, instance)

/** Ticks `sources` in turn until the store holds `events` events (or fails after a deadline). */
const ingestUntil = (sources: ReadonlyArray<Source>, events: number, deadlineMs = 20_000) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const started = Date.now()
    while ((yield* store.readEvents(0, 100_000)).length < events) {
      if (Date.now() - started > deadlineMs) assert.fail(`fewer than ${events} events after ${deadlineMs} ms`)
      for (const s of sources) yield* Ingest.tick(s, router)
    }
    return yield* store.readEvents(0, 100_000)
  })

/** A source's raw payloads in stream order (keyed raw ids are not time-ordered). */
const allRaw = (source: string) =>
  Effect.gen(function* () {
    const raws = yield* (yield* RawPayloadStore).readRaw({ source, limit: 100_000 })
    return [...raws].sort((a, b) => (a.raw.request as { seq: number }).seq - (b.raw.request as { seq: number }).seq)
  })

/** Polls `check` until it holds (the server's consumer state trails the acks a little). */
const eventually = (check: () => Promise<boolean>, what: string) =>
  Effect.promise(async () => {
    const started = Date.now()
    while (!(await check())) {
      if (Date.now() - started > 10_000) throw new Error(`never: ${what}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  })

describe("NATS JetStream source", () => {
  it.live("messages become events and raw payloads, then are acked", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      const c = config(stream)
      yield* Effect.promise(async () => {
        await stream.publish("o1", JSON.stringify({ amount: 5 }))
        await stream.publish("o2", JSON.stringify({ amount: 7 }), { "Nats-Msg-Id": "order-2" })
        await stream.publish("x", JSON.stringify({ sku: "A" }), {
          "Sluice-Event-Type": "stock.moved",
          "Sluice-Entity-Type": "sku",
          "Sluice-Entity-Id": "A"
        })
        await stream.publish(
          "y",
          JSON.stringify({ event_type: "price.set", entity_type: "sku", entity_id: "B", payload: { p: 1 } })
        )
      })
      const src = yield* source(c)
      const events = yield* ingestUntil([src], 4)
      expect(events.map((e) => [e.event.event_type, e.event.entity_type, e.event.entity_id, e.event.payload])).toEqual([
        ["order.placed", "order", "o1", { amount: 5 }],
        ["order.placed", "order", "o2", { amount: 7 }],
        ["stock.moved", "sku", "A", { sku: "A" }],
        ["price.set", "sku", "B", { p: 1 }]
      ])
      const raws = yield* allRaw("orders")
      expect(raws.map((r) => (r.raw.request as { id: string }).id)).toEqual([
        `seq:${stream.stream}/1`,
        "msg-id:order-2",
        `seq:${stream.stream}/3`,
        `seq:${stream.stream}/4`
      ])
      assert.isTrue(events.every((e, i) => e.raw_id === raws[i]!.raw.raw_id))
      yield* eventually(async () => (await stream.consumerState(c.consumer)).ackPending === 0, "all acked")
    }).pipe(Effect.provide(layerMemory))
  )

  it.live("acks only after the commit: a failed store naks, the message comes again and is stored once", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      const failing = yield* Ref.make(true)
      const c = config(stream)
      yield* Effect.promise(() => stream.publish("o1", JSON.stringify({ amount: 1 })))
      const src = yield* source(c)
      const program = Effect.gen(function* () {
        const first = yield* Effect.result(Ingest.tick(src, router))
        assert.strictEqual(first._tag, "Failure")
        // Not acked: still pending at the server (naked, so delivered again at once).
        const state = yield* Effect.promise(() => stream.consumerState(c.consumer))
        assert.strictEqual(state.ackPending + state.pending, 1)
        yield* Ref.set(failing, false)
        const events = yield* ingestUntil([src], 1)
        const raws = yield* allRaw("orders")
        expect([events.length, raws.length]).toEqual([1, 1])
        expect((raws[0]!.raw.request as { deliveries: number }).deliveries).toBe(2)
        yield* eventually(async () => (await stream.consumerState(c.consumer)).ackPending === 0, "acked")
      })
      yield* Effect.provide(program, layerMemoryFailingAppends(failing))
    })
  )

  it.live("run by the pipelined loop: a store that fails for a while loses nothing, each message stored once", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      const failing = yield* Ref.make(true)
      const c = config(stream, { batchSize: 10 })
      const total = 100
      yield* Effect.promise(async () => {
        for (let i = 0; i < total; i++) await stream.publish(`o${i}`, JSON.stringify({ i }))
      })
      const src = yield* source(c)
      assert.isTrue(src.pipelined)
      // The store is down until the third fetch with messages was taken: the first and the one
      // taken while it failed are naked and come again.
      let fetches = 0
      const counted: Source = {
        ...src,
        fetch: Effect.tap(src.fetch, (r) =>
          r.payloads.length > 0 && ++fetches === 3 ? Ref.set(failing, false) : Effect.void
        )
      }
      const program = Effect.gen(function* () {
        const store = yield* EventStore
        const loop = yield* Effect.forkChild(
          Ingest.run(counted, router, { interval: "1 millis", maxBackoff: "10 millis" })
        )
        const started = Date.now()
        while ((yield* store.readEvents(0, 1_000)).length < total) {
          if (Date.now() - started > 20_000) assert.fail(`fewer than ${total} events after 20 s`)
          yield* Effect.sleep("20 millis")
        }
        yield* eventually(async () => {
          const state = await stream.consumerState(c.consumer)
          return state.ackPending === 0 && state.pending === 0
        }, "all acked")
        yield* Fiber.interrupt(loop)
        const events = yield* store.readEvents(0, 1_000)
        const raws = yield* allRaw("orders")
        expect([events.length, raws.length]).toEqual([total, total])
        expect(new Set(events.map((e) => e.event.entity_id)).size).toBe(total)
        assert.isTrue(raws.some((r) => (r.raw.request as { deliveries: number }).deliveries > 1))
      })
      yield* Effect.provide(program, layerMemoryFailingAppends(failing))
    })
  )

  it.live("a message delivered again after a crash before its ack is a duplicate, not a second event", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      const c = config(stream, { ackWait: "1 second" })
      yield* Effect.promise(() => stream.publish("o1", JSON.stringify({ amount: 1 }), { "Nats-Msg-Id": "m-1" }))
      const src = yield* source(c)
      // Stored, but the "process dies" before acking: acknowledge dropped.
      const crashing: Source = { ...src, fetch: Effect.map(src.fetch, ({ acknowledge: _, ...rest }) => rest) }
      yield* ingestUntil([crashing], 1)
      // Delivered again after ackWait: the same raw payload id, its event a duplicate.
      let duplicates = 0
      const started = Date.now()
      while (duplicates === 0) {
        if (Date.now() - started > 15_000) assert.fail("never redelivered")
        const report = yield* Ingest.tick(src, router)
        duplicates += report.payloads.reduce((n, p) => n + p.duplicates, 0)
      }
      expect((yield* (yield* EventStore).readEvents(0, 10)).length).toBe(1)
      expect((yield* allRaw("orders")).length).toBe(1)
      yield* eventually(async () => (await stream.consumerState(c.consumer)).ackPending === 0, "acked")
    }).pipe(Effect.provide(layerMemory))
  )

  it.live("a poison message is stored with its error and acked, never redelivered", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      const c = config(stream)
      yield* Effect.promise(async () => {
        await stream.publish("o1", "not json {")
        await stream.publish("o2", JSON.stringify({ amount: 2 }))
      })
      const src = yield* source(c)
      yield* ingestUntil([src], 1)
      const raws = yield* allRaw("orders")
      expect(raws.map((r) => r.raw.body)).toEqual(["not json {", JSON.stringify({ amount: 2 })])
      expect(raws[0]!.raw.transform_error).toMatch(/not JSON/)
      yield* eventually(async () => {
        const state = await stream.consumerState(c.consumer)
        return state.ackPending === 0 && state.pending === 0
      }, "the poison message acked")
    }).pipe(Effect.provide(layerMemory))
  )

  it.live("shutdown acks nothing it did not store: the next runner gets every message it held", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      // Held messages are naked; one that JetStream hands to the closing runner's last pull comes
      // back after ackWait.
      const c = config(stream, { ackWait: "1 second" })
      yield* Effect.promise(async () => {
        for (let i = 0; i < 20; i++) await stream.publish(`o${i}`, JSON.stringify({ i }))
      })
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* source(c)
          yield* eventually(async () => (await stream.consumerState(c.consumer)).ackPending === 20, "all pulled")
        })
      )
      expect((yield* (yield* EventStore).readEvents(0, 10)).length).toBe(0)
      const next = yield* source(c)
      expect((yield* ingestUntil([next], 20, 10_000)).length).toBe(20)
    }).pipe(Effect.provide(layerMemory))
  )

  it.live("two runners sharing one durable each get distinct messages, together all of them", () =>
    Effect.gen(function* () {
      const stream = yield* testStream
      const c = config(stream, { batchSize: 10 })
      const total = 200
      yield* Effect.promise(async () => {
        for (let i = 0; i < total; i++) await stream.publish(`o${i}`, JSON.stringify({ i }))
      })
      const one = yield* source(c, "orders")
      const two = yield* source({ ...c, name: "runner-two" }, "orders")
      const seen = new Map<string, Array<number>>()
      const counting = (s: Source, who: string): Source => ({
        ...s,
        fetch: Effect.tap(s.fetch, (r) =>
          Effect.sync(() =>
            seen.set(who, [...(seen.get(who) ?? []), ...r.payloads.map((p) => (p.request as { seq: number }).seq)])
          )
        )
      })
      const events = yield* ingestUntil([counting(one, "one"), counting(two, "two")], total)
      expect(events.length).toBe(total)
      const a = seen.get("one") ?? []
      const b = seen.get("two") ?? []
      assert.isTrue(a.length > 0 && b.length > 0, `both runners got messages (${a.length}, ${b.length})`)
      expect(new Set([...a, ...b]).size).toBe(total)
      expect(a.filter((seq) => b.includes(seq))).toEqual([])
    }).pipe(Effect.provide(layerMemory))
  )
})
