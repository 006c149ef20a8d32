/**
 * A fetch's `acknowledge` runs only after its payloads committed (one transaction per fetch), its
 * `release` when they did not; a payload's `key` makes a redelivered payload a duplicate, stored once.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { DateTime, Effect, Option, Ref } from "effect"
import { EventStore } from "../src/EventStore.ts"
import { deterministicRawPayloadId } from "../src/Ids.ts"
import * as Ingest from "../src/Ingest.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import type { RawFetch, Source } from "../src/Source.ts"
import { layerMemoryFailingAppends } from "../src/testing/FailingAppends.ts"

const router = makeRouterUnsafe([{ name: "all", transport: "memory", topic: "all", match: ["**"] }])

/** A message as a broker would deliver it: keyed by its sequence; its event keyed likewise. */
const message = (seq: number): RawFetch => ({
  content_type: "application/json",
  body: JSON.stringify({ seq }),
  request: { seq },
  key: `orders:${seq}`
})

const source = (fetch: Source["fetch"]): Source => ({
  name: "broker",
  fetch,
  transform: (raw) =>
    Effect.succeed({
      events: [
        {
          event_type: "order.placed",
          entity_type: "order",
          entity_id: String((JSON.parse(raw.body) as { seq: number }).seq),
          occurred_at: DateTime.makeUnsafe(0),
          payload: JSON.parse(raw.body),
          natural_key: String((raw.request as { seq: number }).seq)
        }
      ],
      issues: []
    })
})

describe("acknowledging what committed", () => {
  it.effect("acknowledge runs after the fetch's payloads are stored, with one appendAll", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const seen = yield* Ref.make<ReadonlyArray<number>>([])
      const acknowledge = Effect.gen(function* () {
        // At acknowledgement time every payload of the fetch is readable: it committed.
        const events = yield* Effect.orDie(store.readEvents(0, 10))
        yield* Ref.set(
          seen,
          events.map((e) => (e.event.payload as { seq: number }).seq)
        )
      })
      yield* Ingest.tick(
        source(Effect.succeed({ payloads: [message(1), message(2)], failures: [], acknowledge })),
        router
      )
      expect(yield* Ref.get(seen)).toEqual([1, 2])
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("a failed store runs release, not acknowledge, and leaves none of the fetch stored", () =>
    Effect.gen(function* () {
      const failing = yield* Ref.make(false)
      yield* Effect.provide(failThenRecover(failing), layerMemoryFailingAppends(failing))
    })
  )

  it.effect("a keyed payload delivered again is stored once: same raw id, its events duplicates", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const src = source(Effect.succeed({ payloads: [message(7)], failures: [] }))
      const first = yield* Ingest.tick(src, router)
      const again = yield* Ingest.tick(src, router)
      const rawId = deterministicRawPayloadId("broker", "orders:7")
      expect(first.payloads.map((p) => [p.rawId, p.appended])).toEqual([[rawId, 1]])
      expect(again.payloads.map((p) => [p.rawId, p.appended, p.duplicates])).toEqual([[rawId, 0, 1]])
      // The first copy is the one kept (its trace id), and the event points at it.
      const raw = Option.getOrThrow(yield* store.getRaw(rawId))
      assert.strictEqual(raw.trace_id, first.payloads[0]!.traceId)
      const events = yield* store.readEvents(0, 10)
      expect(events.map((e) => e.raw_id)).toEqual([rawId])
    }).pipe(Effect.provide(layerMemory))
  )
})

const failThenRecover = (failing: Ref.Ref<boolean>) =>
  Effect.gen(function* () {
    const acked = yield* Ref.make(0)
    const released = yield* Ref.make(0)
    const fetch = Effect.succeed({
      payloads: [message(1), message(2)],
      failures: [],
      acknowledge: Ref.update(acked, (n) => n + 1),
      release: Ref.update(released, (n) => n + 1)
    })
    const src = source(fetch)
    yield* Ref.set(failing, true)
    const result = yield* Effect.result(Ingest.tick(src, router))
    assert.strictEqual(result._tag, "Failure")
    expect([yield* Ref.get(acked), yield* Ref.get(released)]).toEqual([0, 1])
    const store = yield* EventStore
    expect(yield* store.readEvents(0, 10)).toEqual([])
    assert.isTrue(Option.isNone(yield* store.getRaw(deterministicRawPayloadId("broker", "orders:1"))))
    // Delivered again once the store is back: stored once, then acknowledged.
    yield* Ref.set(failing, false)
    yield* Ingest.tick(src, router)
    expect((yield* store.readEvents(0, 10)).length).toBe(2)
    expect(yield* Ref.get(acked)).toBe(1)
  })
