/**
 * The canonical event and the raw payload it was derived from: the shapes every source produces,
 * every store keeps and every transport delivers. Validation is strict because an event is immutable
 * once appended: a bad field must be caught before the transaction, not by a consumer later.
 */
import { DateTime, Schema, SchemaTransformation } from "effect"
import { EVENT_ID, EVENT_TYPE, EVENT_TYPE_MAX, ISO_UTC, NAME_MAX, TRACE_ID } from "./internal/EventRules.ts"
import { isStorableJson, isStorableText } from "./StorableText.ts"

/**
 * A UTC instant written as ISO-8601 with a `Z` suffix (`2026-01-02T03:04:05.678Z`), decoded to a
 * `DateTime.Utc`. Offsets such as `+02:00` are rejected: canonical events carry UTC only, so two
 * equal instants always encode to the same text.
 */
export const UtcTimestamp = Schema.String.pipe(
  Schema.check(Schema.isPattern(ISO_UTC, { expected: "an ISO-8601 UTC timestamp ending in Z" })),
  Schema.decodeTo(Schema.DateTimeUtc, SchemaTransformation.dateTimeUtcFromString)
)

/** An RFC 9562 UUID in lower case, the id of an event. */
export const EventId = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(EVENT_ID, {
      expected: "a lower-case RFC 9562 UUID"
    })
  ),
  Schema.brand("sluice/EventId")
)
export type EventId = typeof EventId.Type

/** A W3C Trace Context trace id: 32 lower-case hex digits, not all zero. */
export const TraceId = Schema.String.pipe(
  Schema.check(Schema.isPattern(TRACE_ID, { expected: "a W3C trace id (32 lower-case hex digits, not all zero)" })),
  Schema.brand("sluice/TraceId")
)
export type TraceId = typeof TraceId.Type

/** A dotted name such as `quote.updated`: letters, digits, `_` and `-` in each dot-separated segment. */
export const EventType = Schema.String.pipe(
  Schema.check(
    Schema.isPattern(EVENT_TYPE, { expected: "a dotted event type such as quote.updated" }),
    Schema.isMaxLength(EVENT_TYPE_MAX)
  )
)

// Text a database can store (no U+0000, no lone surrogate): see StorableText.ts.
const Name = Schema.String.pipe(Schema.check(Schema.isNonEmpty(), Schema.isMaxLength(NAME_MAX), isStorableText))

/** The canonical event. Field names are the wire names: what stores keep and transports send. */
export const Event = Schema.Struct({
  event_id: EventId,
  event_type: EventType,
  entity_id: Name,
  entity_type: Name,
  trace_id: TraceId,
  schema_version: Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))),
  occurred_at: UtcTimestamp,
  /** Any JSON whose strings and keys a database can store; a problem is reported at its path. */
  payload: Schema.Json.pipe(Schema.check(isStorableJson)),
  /**
   * Set on a correction only (Correction.ts): the id of the event this one replaces, an earlier
   * version of the same fact whose source restated it. Absent on every other event, so their wire
   * form is unchanged; a consumer that keeps state per fact replaces that event's effect by this one's.
   */
  supersedes: Schema.optionalKey(EventId)
})
export type Event = typeof Event.Type
/** An event as JSON: what a transport puts on the wire. */
export type EventJson = typeof Event.Encoded

/** Decodes unknown input into an Event, failing with a SchemaError that names every bad field. */
export const decodeEvent = Schema.decodeUnknownEffect(Event)
/**
 * Encodes an event to its wire form (timestamps as ISO strings): what `Schema.encodeSync(Event)`
 * gives (test/Event.test.ts), without re-running every check (the payload's walk) per delivery.
 */
export const encodeEvent = (event: Event): EventJson => ({
  ...event,
  occurred_at: DateTime.formatIso(event.occurred_at)
})

/** The id of a stored raw payload (a UUIDv7). */
export const RawPayloadId = Schema.String.pipe(Schema.check(Schema.isUUID()), Schema.brand("sluice/RawPayloadId"))
export type RawPayloadId = typeof RawPayloadId.Type

/**
 * Exactly what a source returned, kept for audit. Every event points at the raw payload it came from;
 * a payload that failed to transform is kept too, with `transform_error` saying why.
 */
export const RawPayload = Schema.Struct({
  raw_id: RawPayloadId,
  source: Name,
  content_type: Name,
  /** The body as text (binary bodies are base64, with a content type that says so). */
  body: Schema.String,
  /** What was asked for (URL, symbols, range...), as JSON. */
  request: Schema.Json,
  received_at: UtcTimestamp,
  trace_id: TraceId,
  /** Lower-case hex SHA-256 of the UTF-8 body. */
  content_hash: Schema.String.pipe(Schema.check(Schema.isPattern(/^[0-9a-f]{64}$/))),
  transform_error: Schema.NullOr(Schema.String)
})
export type RawPayload = typeof RawPayload.Type
