/**
 * What the store holds, without SQL: `sluice events show|tail` and `sluice raw show|list`, and the
 * admin API's `/api/events` and `/api/raw` (the same JSON). A tail first prints the newest events by
 * position, then follows the log as subscriptions read it (by commit order, below every transaction
 * still open), so an event that commits late with a lower position is not skipped.
 */
import {
  type EventStore,
  encodeEvent,
  LogPosition,
  matches,
  type RawPayload,
  RawPayloadStore,
  type StoredEvent,
  type StoreError,
  type SubscriptionStore
} from "@sluice/core"
import { DateTime, Effect, Schema } from "effect"

/** A stored event as shown: where it is in the log, and the event as it goes on the wire. */
export const ShownEvent = Schema.Struct({
  position: Schema.Number,
  revision: Schema.Number,
  recorded_at: Schema.String,
  raw_id: Schema.NullOr(Schema.String),
  event: Schema.Record(Schema.String, Schema.Unknown)
})
export type ShownEvent = typeof ShownEvent.Type

export const showEvent = (stored: StoredEvent): ShownEvent => ({
  position: stored.position,
  revision: stored.revision,
  recorded_at: DateTime.formatIso(stored.recorded_at),
  raw_id: stored.raw_id,
  event: encodeEvent(stored.event)
})

/** A raw payload as shown, with when a re-derivation resolved its transform error (if it did). */
export const showRaw = (raw: RawPayload, resolvedAt: DateTime.Utc | null = null) => ({
  ...raw,
  received_at: DateTime.formatIso(raw.received_at),
  resolved_at: resolvedAt === null ? null : DateTime.formatIso(resolvedAt)
})
export const ShownRaw = Schema.Record(Schema.String, Schema.Unknown)

/** Which events a tail prints: an event type pattern (`quote.*`) and an entity id. */
export interface EventFilter {
  readonly type?: string | undefined
  readonly entity?: string | undefined
}

const selected = (filter: EventFilter) => (stored: StoredEvent) =>
  (filter.type === undefined || matches(filter.type, stored.event.event_type)) &&
  (filter.entity === undefined || stored.event.entity_id === filter.entity)

/** A page of a tail: the events to print, and where the next page starts (`transaction/position`). */
export const TailPage = Schema.Struct({ events: Schema.Array(ShownEvent), next_after: Schema.String })
export type TailPage = typeof TailPage.Type

/** The most events one tail page reads from the log (its events are then filtered). */
export const maxTailRead = 1000

/** Parses `transaction/position` (LogPosition.format). */
export const parseAfter = (text: string): LogPosition.LogPosition | undefined => {
  const match = /^(\d{1,19})\/(\d{1,19})$/.exec(text)
  return match === null ? undefined : { transaction_id: Number(match[1]), position: Number(match[2]) }
}

/**
 * The first page of a tail (`after` absent: the newest `last` events by position, and the head to
 * follow from) or the next one (the events committed after `after`, in log order).
 */
export const tail = (
  events: EventStore["Service"],
  subscriptions: SubscriptionStore["Service"],
  options: EventFilter & { readonly after?: LogPosition.LogPosition | undefined; readonly last: number }
): Effect.Effect<TailPage, StoreError> =>
  Effect.gen(function* () {
    const keep = selected(options)
    if (options.after === undefined) {
      const head = yield* subscriptions.head
      const from = Math.max(0, head.position - maxTailRead)
      const recent = yield* events.readEvents(from, maxTailRead)
      const shown = recent.filter((e) => e.position <= head.position && keep(e)).slice(-options.last)
      return { events: options.last === 0 ? [] : shown.map(showEvent), next_after: LogPosition.format(head) }
    }
    const read = yield* subscriptions.readAll(options.after, maxTailRead)
    const next = read.length === 0 ? options.after : read[read.length - 1]!.log_position
    return { events: read.filter(keep).map(showEvent), next_after: LogPosition.format(next) }
  })

/** A page of raw payloads, oldest first, and the id to pass as `after` for the next (null: the last page). */
export const RawListPage = Schema.Struct({
  raw_payloads: Schema.Array(ShownRaw),
  next_after: Schema.NullOr(Schema.String)
})
export type RawListPage = typeof RawListPage.Type

export const listRaw = (options: {
  readonly source?: string | undefined
  readonly failed: boolean
  readonly after?: string | undefined
  readonly limit: number
}): Effect.Effect<RawListPage, StoreError, RawPayloadStore> =>
  Effect.gen(function* () {
    const raws = yield* RawPayloadStore
    const page = yield* raws.readRaw({
      ...(options.source === undefined ? {} : { source: options.source }),
      ...(options.after === undefined ? {} : { after: options.after as RawPayload["raw_id"] }),
      failed: options.failed,
      limit: options.limit
    })
    return {
      raw_payloads: page.map((s) => showRaw(s.raw, s.resolved_at)),
      next_after: page.length === options.limit ? page[page.length - 1]!.raw.raw_id : null
    }
  })
