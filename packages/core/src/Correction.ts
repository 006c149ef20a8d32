/**
 * Corrections of restated source data. A source may send different content for a fact it already
 * sent (Yahoo restates daily bars after a split): same natural key, so same event id, other
 * content. An id must never mean two payloads, so the store does not drop it as a duplicate:
 *
 * - same content as the key's LATEST version: a duplicate (nothing is written);
 * - other content: a correction, a NEW event (a fresh id chosen by the store) whose `supersedes`
 *   names the version it replaces, appended to its entity's stream and delivered like any event;
 * - other content, but from a raw payload received before the one the latest version came from:
 *   outdated (nothing is written). Older data never overrides newer data, so re-deriving old raw
 *   payloads (Rederive.ts) or a slow writer cannot flip a key back.
 *
 * Content is what the event says: its type, entity, schema version, occurrence time and payload
 * (JSON compared by value: key order does not matter), not its trace id. Comparing with the latest
 * version means the latest content always wins: an original value fetched again after a correction
 * is itself a correction (back), visible and counted, never silently ignored.
 *
 * An id the store already held before corrections existed is simply a key's first version: such
 * databases need no backfill.
 */
import { DateTime } from "effect"
import type { Event, EventId } from "./Event.ts"

/** A correction appended by the store. */
export interface Correction {
  /** The id the batch gave the event (its natural key's id). */
  readonly of: EventId
  /** The id of the new event the store stored. */
  readonly eventId: EventId
  /** The version it replaces: the key's latest version before this append. */
  readonly supersedes: EventId
}

/** JSON with object keys sorted: equal for equal JSON values whatever their key order. */
const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === "object" && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        )
      : v
  )

/** True when two events say the same thing (ids, trace ids and `supersedes` aside). */
export const sameContent = (a: Event, b: Event): boolean =>
  a.event_type === b.event_type &&
  a.entity_type === b.entity_type &&
  a.entity_id === b.entity_id &&
  a.schema_version === b.schema_version &&
  DateTime.toEpochMillis(a.occurred_at) === DateTime.toEpochMillis(b.occurred_at) &&
  canonical(a.payload) === canonical(b.payload)

/**
 * Why a batch cannot be appended because one id in it carries two contents, or undefined. (An id
 * repeated with the same content is a duplicate, as ever.)
 */
export const batchContentProblem = (events: ReadonlyArray<Event>): string | undefined => {
  if (events.length < 2) return undefined
  const seen = new Map<string, Event>()
  for (const event of events) {
    const earlier = seen.get(event.event_id)
    if (earlier === undefined) seen.set(event.event_id, event)
    else if (!sameContent(earlier, event))
      return `events[${events.indexOf(event)}]: event ${event.event_id} appears twice in the batch with different content`
  }
  return undefined
}
