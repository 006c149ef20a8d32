/**
 * The headers of each message. `Nats-Msg-Id` (the event id, or `<route>:<event id>` with
 * `msgId: "route-event"`) is what JetStream deduplicates on; `Sluice-Event-Id` is the event id either way;
 * `traceparent` continues the event's trace (W3C Trace Context, as the HTTP transport sends it);
 * the `Sluice-*` headers let a consumer filter or route without parsing the data. The data (the
 * canonical event JSON) is authoritative: a header value loses line breaks and surrounding spaces,
 * which NATS headers cannot carry.
 */
import { headers, type MsgHdrs } from "@nats-io/nats-core"
import type { Envelope } from "@sluice/core"

export const headerNames = {
  msgId: "Nats-Msg-Id",
  eventId: "Sluice-Event-Id",
  traceparent: "traceparent",
  eventType: "Sluice-Event-Type",
  schemaVersion: "Sluice-Schema-Version",
  entityType: "Sluice-Entity-Type",
  entityId: "Sluice-Entity-Id",
  route: "Sluice-Route",
  topic: "Sluice-Topic",
  attempt: "Sluice-Attempt"
} as const

const lineBreaks = /[\r\n]+/g
const headerValue = (value: string) => value.replace(lineBreaks, " ")

/** A W3C `traceparent` for the event's trace, with `spanId` as the publishing span. */
export const traceparent = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`

/** What `Nats-Msg-Id` is made of (the transport's `msgId` option). */
export type MsgIdScheme = "event" | "route-event"

/** The `Nats-Msg-Id` of `envelope`: the deduplication key of one route's copy of an event. */
export const msgIdOf = (envelope: Envelope, scheme: MsgIdScheme): string =>
  scheme === "event" ? envelope.event.event_id : `${envelope.route}:${envelope.event.event_id}`

/** The message headers of `envelope`. */
export const messageHeaders = (envelope: Envelope, spanId: string, scheme: MsgIdScheme = "event"): MsgHdrs => {
  const { event } = envelope
  const h = headers()
  h.set(headerNames.msgId, msgIdOf(envelope, scheme))
  h.set(headerNames.eventId, event.event_id)
  h.set(headerNames.traceparent, traceparent(event.trace_id, spanId))
  h.set(headerNames.eventType, event.event_type)
  h.set(headerNames.schemaVersion, String(event.schema_version))
  h.set(headerNames.entityType, headerValue(event.entity_type))
  h.set(headerNames.entityId, headerValue(event.entity_id))
  h.set(headerNames.route, headerValue(envelope.route))
  h.set(headerNames.topic, headerValue(envelope.topic))
  h.set(headerNames.attempt, String(envelope.attempt))
  return h
}
