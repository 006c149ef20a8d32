/**
 * Why an `Event` made in code is not one the `Event` schema would accept, naming the field, or
 * undefined. Every store runs it on each event of an append (`appendBatchProblem`): the type alone
 * lets through an `event_type` with spaces, an empty `entity_id` or a `schema_version` of -3, and a
 * stored event can never be fixed. The direct check (`isCertainlyEvent`) passes valid events for a
 * fraction of a microsecond; only an event it is unsure of goes through the schema, for its message.
 */
import { DateTime, Exit, Schema, SchemaIssue } from "effect"
import { Event } from "./Event.ts"
import { EVENT_ID, isCertainlyEvent } from "./internal/EventRules.ts"
import { sharpenPayloadReason } from "./internal/JsonValue.ts"

const validate = Schema.decodeUnknownExit(Event)
const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * True when the `Event` schema certainly accepts `event` (the direct check): then its names and
 * payload hold only text PostgreSQL can store, too (EventRules.ts checks that as the schema does).
 */
export const isCertainlyValid = (event: Event): boolean => {
  const supersedes = (event as { readonly supersedes?: unknown }).supersedes
  const supersedesValid = supersedes === undefined || (typeof supersedes === "string" && EVENT_ID.test(supersedes))
  return supersedesValid && DateTime.isDateTime(event.occurred_at as unknown) && isCertainlyEvent(event)
}

export const eventProblem = (event: Event): string | undefined => {
  if (isCertainlyValid(event)) return undefined
  const occurredAt: unknown = event.occurred_at
  if (!DateTime.isDateTime(occurredAt)) return "occurred_at: expected a DateTime"
  const exit = validate({ ...event, occurred_at: DateTime.formatIso(occurredAt) })
  if (Exit.isSuccess(exit)) return undefined
  const failure = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  return failure === undefined
    ? String(exit.cause)
    : sharpenPayloadReason(formatIssue(failure.error.issue).replace(/\n\s*/g, " "), event.payload)
}

/** The first event of `events` the schema would refuse, with its index and what is wrong, or undefined. */
export const eventsProblem = (events: ReadonlyArray<Event>): string | undefined => {
  for (let index = 0; index < events.length; index++) {
    const event = events[index]
    if (event === undefined) continue
    const problem = eventProblem(event)
    if (problem !== undefined) return `event ${index} (${String(event.event_id)}) is not a valid Event: ${problem}`
  }
  return undefined
}
