/**
 * An event's trace. Every span of an event's journey — the ingest of the raw payload it came from
 * (with the store's append), each relay attempt, the transport's request — is in the trace its
 * `trace_id` names, the one transports send as `traceparent`, so a receiver that continues the
 * trace shows the whole journey. Those spans hang off one parent span that is never exported: its
 * id is derived from the trace id (`rootSpanId`), as the span of a remote caller that started the
 * trace would be, since the relay, possibly in another process days later, knows only the trace id.
 *
 * Per-event relay spans cost a span per row and attempt: they are recorded only when `TraceEvents`
 * is on (the runner turns it on with `telemetry.otlp`).
 */
import { Context, Tracer } from "effect"
import { sha256HexOfText } from "./internal/hash.ts"

/** Whether the relay records a span per event and attempt (`sluice.relay.attempt`). @default false */
export const TraceEvents = Context.Reference<boolean>("sluice/EventTrace/TraceEvents", {
  defaultValue: () => false
})

/** The id of the (unexported) parent span of every span in the trace `traceId`: 16 hex digits. */
export const rootSpanId = (traceId: string): string => {
  const id = sha256HexOfText(traceId).slice(0, 16)
  return id === "0000000000000000" ? "0000000000000001" : id
}

/** The parent to give a span of the event journey traced by `traceId`. */
export const parentOf = (traceId: string): Tracer.ExternalSpan =>
  Tracer.externalSpan({ traceId, spanId: rootSpanId(traceId), sampled: true })
