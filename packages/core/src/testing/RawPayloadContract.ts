/**
 * The RawPayloadStore contract (RawPayloadStore.ts): reading a source's raw payloads back in pages,
 * and resolutions that commit with their transaction. Run by every adapter beside the EventStore's.
 */
import { DateTime, Effect } from "effect"
import type { RawPayloadId, TraceId } from "../Event.ts"
import { EventStore } from "../EventStore.ts"
import { RawPayloadStore } from "../RawPayloadStore.ts"
import * as check from "./check.ts"
import { makeRaw } from "./fixtures.ts"

export interface RawPayloadCase {
  readonly name: string
  readonly run: Effect.Effect<void, unknown, EventStore | RawPayloadStore>
}

const trace = "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId

/** Stores a raw payload of `source` received at `minute` past 2026-01-02 03:00, without events. */
const storeRaw = (source: string, minute: number, transform_error: string | null = null) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const raw = {
      ...(yield* makeRaw(`{"m":${minute}}`, source)),
      received_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, minute)),
      transform_error
    }
    yield* store.append({ raw, events: [], outbox: [] })
    return raw
  })

export const cases: ReadonlyArray<RawPayloadCase> = [
  {
    name: "readRaw pages a source's payloads in id order, from a time on",
    run: Effect.gen(function* () {
      const raws = yield* RawPayloadStore
      const a = yield* storeRaw("a", 1)
      yield* storeRaw("b", 2)
      const a3 = yield* storeRaw("a", 3)
      const a4 = yield* storeRaw("a", 4, "bad")
      const ids = (page: ReadonlyArray<{ readonly raw: { readonly raw_id: RawPayloadId } }>) =>
        page.map((s) => s.raw.raw_id)
      // Ids of one millisecond (a test clock's) are ordered by their random bits, not by storing.
      const sorted = (xs: ReadonlyArray<{ readonly raw_id: RawPayloadId }>) => xs.map((x) => x.raw_id).sort()
      const all = sorted([a, a3, a4])
      const byId = new Map([a, a3, a4].map((raw) => [raw.raw_id, raw]))
      const first = yield* raws.readRaw({ source: "a", limit: 2 })
      yield* check.equal(ids(first), all.slice(0, 2), "first page, source a only, in id order")
      yield* check.equal(first[0]!.raw, byId.get(all[0]!), "the payload round-trips")
      const second = yield* raws.readRaw({ source: "a", limit: 2, after: all[1]! })
      yield* check.equal(ids(second), all.slice(2), "second page")
      yield* check.equal(
        [second[0]!.raw.transform_error, second[0]!.resolved_at],
        [byId.get(all[2]!)!.transform_error, null],
        "no resolution"
      )
      const since = yield* raws.readRaw({ source: "a", limit: 10, since: a3.received_at })
      yield* check.equal(ids(since), sorted([a3, a4]), "since is inclusive")
      yield* check.equal((yield* raws.readRaw({ source: "none", limit: 10 })).length, 0, "unknown source: none")
    })
  },
  {
    name: "resolve records a resolution once, and not when its transaction rolls back",
    run: Effect.gen(function* () {
      const store = yield* EventStore
      const raws = yield* RawPayloadStore
      const kept = yield* storeRaw("a", 1, "bad")
      const dropped = yield* storeRaw("a", 2, "bad")
      yield* store
        .transaction(Effect.andThen(raws.resolve(dropped.raw_id, trace), Effect.fail("no")))
        .pipe(Effect.ignore)
      yield* raws.resolve(kept.raw_id, trace)
      yield* raws.resolve(kept.raw_id, trace)
      const page = yield* raws.readRaw({ source: "a", limit: 10 })
      const of = (id: RawPayloadId) => page.find((s) => s.raw.raw_id === id)!
      yield* check.that(of(kept.raw_id).resolved_at !== null, "resolved")
      yield* check.equal(of(kept.raw_id).raw.transform_error, "bad", "the error itself is kept (audit)")
      yield* check.equal(of(dropped.raw_id).resolved_at, null, "rolled back")
    })
  },
  {
    name: "readRaw lists every source's payloads without a source, and only the unresolved failed ones with failed",
    run: Effect.gen(function* () {
      const raws = yield* RawPayloadStore
      const ok = yield* storeRaw("a", 1)
      const bad = yield* storeRaw("a", 2, "bad json")
      const fixed = yield* storeRaw("b", 3, "unknown field")
      const badB = yield* storeRaw("b", 4, "partly: 1 of 2 bars")
      yield* raws.resolve(fixed.raw_id, trace)
      const ids = (page: ReadonlyArray<{ readonly raw: { readonly raw_id: RawPayloadId } }>) =>
        page.map((s) => s.raw.raw_id).sort()
      yield* check.equal(
        ids(yield* raws.readRaw({ limit: 10 })),
        [ok, bad, fixed, badB].map((r) => r.raw_id).sort(),
        "every source"
      )
      yield* check.equal(
        ids(yield* raws.readRaw({ limit: 10, failed: true })),
        [bad, badB].map((r) => r.raw_id).sort(),
        "failed and not resolved"
      )
      yield* check.equal(
        ids(yield* raws.readRaw({ source: "b", limit: 10, failed: true })),
        [badB.raw_id],
        "of one source"
      )
    })
  }
]
