/**
 * Bench data: append batches of time-ordered (UUIDv7) events, one raw payload per batch and one
 * outbox row per event, made before the clock starts so both sides of a comparison get the same input.
 */
import { randomBytes } from "node:crypto"
import type { AppendBatch, Event, EventId, RawPayload, RawPayloadId, TraceId } from "@sluice/core"
import { Ids } from "@sluice/core"
import { DateTime } from "effect"

let clock = 1_800_000_000_000
const v7 = () => Ids.uuidV7(clock++, randomBytes(10))
const trace = "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId
const at = DateTime.makeUnsafe(1_800_000_000_000)

const event = (n: number): Event => ({
  event_id: v7() as EventId,
  event_type: "quote.updated",
  entity_type: "quote",
  entity_id: `SYM${n % 500}`,
  trace_id: trace,
  schema_version: 1,
  occurred_at: at,
  payload: { symbol: `SYM${n % 500}`, price: 100 + (n % 97) / 10, volume: n }
})

const raw = (body: string): RawPayload => ({
  raw_id: v7() as RawPayloadId,
  source: "bench",
  content_type: "application/json",
  body,
  request: { bench: true },
  received_at: at,
  trace_id: trace,
  content_hash: "0".repeat(64),
  transform_error: null
})

/** `total` events in batches of `size`, routed to `route`. */
export const makeBatches = (total: number, size: number, route = "bench"): ReadonlyArray<AppendBatch> => {
  const batches: Array<AppendBatch> = []
  for (let i = 0; i < total; i += size) {
    const events = Array.from({ length: Math.min(size, total - i) }, (_, k) => event(i + k))
    batches.push({
      raw: raw(`{"n":${i}}`),
      events,
      outbox: events.map((e) => ({ event_id: e.event_id, route, topic: "quotes", ordering_key: null }))
    })
  }
  return batches
}
