/**
 * The rules of a canonical event's fields, shared by the `Event` schema (Event.ts) and a direct
 * check of them (`isCertainlyEvent`) for the hot path that assembles events from parts it mostly
 * made itself (CommandHandler): running the schema on each decided event cost more than the rest
 * of the handler's own work. The direct check only ever says "valid" when the schema would; when it
 * is not sure, the schema runs and gives its verdict and message.
 */
import type { DateTime } from "effect"
import { textProblem } from "../StorableText.ts"

export const ISO_UTC = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,9})?Z$/
export const EVENT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
export const TRACE_ID = /^(?!0{32})[0-9a-f]{32}$/
export const EVENT_TYPE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/
export const EVENT_TYPE_MAX = 200
export const NAME_MAX = 500

// The instants whose ISO form (DateTime.formatIso) has a 4-digit year, as ISO_UTC requires:
// 0000-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z.
const MIN_MILLIS = -62_167_219_200_000
const MAX_MILLIS = 253_402_300_799_999

// A payload nested deeper is left to the schema (which also detects cycles).
const MAX_DEPTH = 64

/** Text an event's entity_type or entity_id can be. */
export const isName = (text: unknown): boolean =>
  typeof text === "string" && text.length >= 1 && text.length <= NAME_MAX && textProblem(text) === undefined

/** A JSON value (plain objects and arrays, finite numbers) whose strings and keys PostgreSQL can store. */
const isStorableJsonValue = (value: unknown, depth: number): boolean => {
  if (value === null || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (typeof value === "string") return textProblem(value) === undefined
  if (typeof value !== "object" || depth >= MAX_DEPTH) return false
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // A hole reads as undefined, which is not JSON.
      if (!isStorableJsonValue(value[i], depth + 1)) return false
    }
    return true
  }
  const prototype = Object.getPrototypeOf(value)
  if (prototype !== null && prototype !== Object.prototype) return false
  for (const key of Object.keys(value)) {
    if (textProblem(key) !== undefined) return false
    if (!isStorableJsonValue((value as Record<string, unknown>)[key], depth + 1)) return false
  }
  return true
}

/** An event as decoded (`occurred_at` a DateTime), before it is known to be valid. */
export interface EventCandidate {
  readonly event_id: string
  readonly event_type: string
  readonly entity_id: string
  readonly entity_type: string
  readonly trace_id: string
  readonly schema_version: number
  readonly occurred_at: DateTime.Utc
  readonly payload: unknown
}

/**
 * True when the `Event` schema certainly accepts `event` (its encoded form) and decodes it to an
 * equal value; false when it may not (then run the schema).
 */
export const isCertainlyEvent = (event: EventCandidate): boolean => {
  const millis = event.occurred_at.epochMilliseconds
  return (
    typeof event.event_type === "string" &&
    event.event_type.length <= EVENT_TYPE_MAX &&
    EVENT_TYPE.test(event.event_type) &&
    Number.isSafeInteger(event.schema_version) &&
    event.schema_version > 0 &&
    millis >= MIN_MILLIS &&
    millis <= MAX_MILLIS &&
    typeof event.event_id === "string" &&
    EVENT_ID.test(event.event_id) &&
    typeof event.trace_id === "string" &&
    TRACE_ID.test(event.trace_id) &&
    isName(event.entity_id) &&
    isName(event.entity_type) &&
    isStorableJsonValue(event.payload, 0)
  )
}
