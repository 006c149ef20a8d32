/**
 * Decoding of the store's result rows into core's types. The SQL casts bigint ids to text (outbox
 * ids are decimal strings in core, and drivers disagree on int8: postgres.js gives strings, PGlite
 * numbers), so this file only has to deal with Dates, JSON and nulls.
 */
import type {
  Claimed,
  Event,
  EventId,
  OutboxEntry,
  OutboxId,
  RawPayload,
  RawPayloadId,
  StoredEvent,
  TraceId
} from "@sluice/core"
import { DateTime } from "effect"

/** The outbox columns every query that returns entries selects (see `entryColumns`). */
export interface EntryRow {
  readonly outbox_id: string
  readonly event_id: string
  readonly route: string
  readonly topic: string
  readonly status: OutboxEntry["status"]
  readonly attempts: number
  readonly next_attempt_at: Date
  readonly lease_owner: string | null
  readonly lease_token: string | null
  readonly lease_expires_at: Date | null
  readonly last_error: string | null
  readonly ordering_key: string | null
  readonly replays: number
  readonly created_at: Date
  readonly delivered_at: Date | null
}

/** The event columns (see `eventColumns`). */
export interface EventRow {
  readonly event_id: string
  readonly event_type: string
  readonly entity_id: string
  readonly entity_type: string
  readonly trace_id: string
  readonly schema_version: number
  readonly occurred_at: Date
  readonly payload: Event["payload"]
  /** Null but on corrections. */
  readonly supersedes: string | null
}

/**
 * A claimed row (OutboxSql's claim): the outbox columns a claim does not already know, and the
 * event's, its payload as JSON text.
 */
export interface ClaimRow extends Omit<EventRow, "payload"> {
  readonly outbox_id: string
  readonly route: string
  readonly topic: string
  readonly attempts: number
  readonly next_attempt_at: Date
  readonly lease_token: string
  readonly lease_expires_at: Date
  readonly last_error: string | null
  readonly ordering_key: string | null
  readonly replays: number
  readonly created_at: Date
  /** The payload's JSON text. */
  readonly payload: string
}

export interface StoredEventRow extends EventRow {
  readonly position: string
  readonly revision: string
  readonly raw_id: string | null
  readonly recorded_at: Date
}

export interface RawRow {
  readonly raw_id: string
  readonly source: string
  readonly content_type: string
  readonly body: string
  readonly request: RawPayload["request"]
  readonly received_at: Date
  readonly trace_id: string
  readonly content_hash: string
  readonly transform_error: string | null
}

const utc = (date: Date): DateTime.Utc => DateTime.fromDateUnsafe(date)

export const toEntry = (row: EntryRow): OutboxEntry => ({
  outbox_id: row.outbox_id as OutboxId,
  event_id: row.event_id as EventId,
  route: row.route,
  topic: row.topic,
  status: row.status,
  attempts: row.attempts,
  next_attempt_at: utc(row.next_attempt_at),
  lease:
    row.lease_token === null || row.lease_expires_at === null
      ? null
      : { owner: row.lease_owner ?? "", token: row.lease_token, expires_at: utc(row.lease_expires_at) },
  last_error: row.last_error,
  ordering_key: row.ordering_key,
  replays: row.replays,
  created_at: utc(row.created_at),
  delivered_at: row.delivered_at === null ? null : utc(row.delivered_at)
})

export const toEvent = (row: EventRow): Event => {
  const event: { -readonly [K in keyof Event]: Event[K] } = {
    event_id: row.event_id as EventId,
    event_type: row.event_type,
    entity_id: row.entity_id,
    entity_type: row.entity_type,
    trace_id: row.trace_id as TraceId,
    schema_version: row.schema_version,
    occurred_at: utc(row.occurred_at),
    payload: row.payload
  }
  // Absent, not undefined, on other events: their wire form stays as it was. Set afterwards, not
  // spread in: the spread cost a fifth of the row's allocation on every read.
  if (row.supersedes !== null) event.supersedes = row.supersedes as EventId
  return event
}

/**
 * A claimed row for the relay. The event is decoded when first read: a transport that reads only
 * the envelope's other fields never pays for parsing its payload (read again, it is the same object).
 */
export const toClaimed = (row: ClaimRow, owner: string): Claimed => {
  let event: Event | undefined
  return {
    entry: {
      outbox_id: row.outbox_id as OutboxId,
      event_id: row.event_id as EventId,
      route: row.route,
      topic: row.topic,
      status: "pending",
      attempts: row.attempts,
      next_attempt_at: utc(row.next_attempt_at),
      lease: { owner, token: row.lease_token, expires_at: utc(row.lease_expires_at) },
      last_error: row.last_error,
      ordering_key: row.ordering_key,
      replays: row.replays,
      created_at: utc(row.created_at),
      delivered_at: null
    },
    get event() {
      event ??= toEvent({ ...row, payload: JSON.parse(row.payload) as Event["payload"] })
      return event
    }
  }
}

export const toStoredEvent = (row: StoredEventRow): StoredEvent => ({
  position: Number(row.position),
  revision: Number(row.revision),
  raw_id: row.raw_id as RawPayloadId | null,
  recorded_at: utc(row.recorded_at),
  event: toEvent(row)
})

export const toRaw = (row: RawRow): RawPayload => ({
  raw_id: row.raw_id as RawPayloadId,
  source: row.source,
  content_type: row.content_type,
  body: row.body,
  request: row.request,
  received_at: utc(row.received_at),
  trace_id: row.trace_id as TraceId,
  content_hash: row.content_hash,
  transform_error: row.transform_error
})
