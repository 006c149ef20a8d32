/**
 * Small builders for tests: valid events, raw payloads and append batches with sensible defaults.
 */
import { DateTime, Effect } from "effect"
import { Hex } from "effect/encoding"
import type { Event, EventId, RawPayload, RawPayloadId, TraceId } from "../Event.ts"
import type { AppendBatch } from "../EventStore.ts"
import { deterministicEventId, nextRawPayloadId, nextTraceId } from "../Ids.ts"
import { sha256, utf8 } from "../internal/hash.ts"

let counter = 0
// Distinguishes this process's default keys from another's writing to the same database.
const run = Math.random().toString(36).slice(2)

/** A valid event; `key` makes its id deterministic (UUIDv5 of ("test", key)). */
export const makeEvent = (overrides: Partial<Event> & { readonly key?: string } = {}): Event => {
  const { key, ...rest } = overrides
  const n = ++counter
  return {
    event_id: deterministicEventId("test", key ?? `${run}-${n}`),
    event_type: "test.happened",
    entity_id: `entity-${n}`,
    entity_type: "test",
    trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId,
    schema_version: 1,
    occurred_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, 4, 5)),
    payload: { n },
    ...rest
  }
}

/** A raw payload with the given body. */
export const makeRaw = (body = "{}", source = "test"): Effect.Effect<RawPayload> =>
  Effect.gen(function* () {
    return {
      raw_id: (yield* nextRawPayloadId) as RawPayloadId,
      source,
      content_type: "application/json",
      body,
      request: { test: true },
      received_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, 4, 6)),
      trace_id: yield* nextTraceId,
      content_hash: Hex.encode(sha256(utf8(body))),
      transform_error: null
    }
  })

/** A batch of `events` with one outbox row per (event, route). */
export const makeBatch = (
  events: ReadonlyArray<Event>,
  routes: ReadonlyArray<string> = ["default"],
  options: { readonly ordered?: boolean } = {}
): Effect.Effect<AppendBatch> =>
  Effect.map(makeRaw(JSON.stringify(events.map((e) => e.payload))), (raw) => ({
    raw,
    events,
    outbox: events.flatMap((event) =>
      routes.map((route) => ({
        event_id: event.event_id as EventId,
        route,
        topic: `topic.${route}`,
        ordering_key: options.ordered === true ? `${event.entity_type}:${event.entity_id}` : null
      }))
    )
  }))
