/**
 * Streams: the events of one entity (`entity_type` + `entity_id`) in the order they were stored, each
 * with its revision, counted from 0 without gaps. A writer that read a stream appends with the
 * revision it read as the expected one (`EventStore.appendToStream`): if another writer got there
 * first, the append fails with WrongExpectedRevisionError and writes nothing (optimistic
 * concurrency, as KurrentDB's expected revision and Emmett's expected stream version).
 */
import { Data } from "effect"
import type { AppendResult } from "./EventStore.ts"
import { isName, NAME_MAX } from "./internal/EventRules.ts"

/** A stream's name: the entity whose events it holds. */
export interface StreamName {
  readonly entity_type: string
  readonly entity_id: string
}

/** The stream of the entity `entity_type`/`entity_id`. */
export const streamName = (entity_type: string, entity_id: string): StreamName => ({ entity_type, entity_id })

/** The stream an event belongs to. */
export const streamOf = (event: { readonly entity_type: string; readonly entity_id: string }): StreamName => ({
  entity_type: event.entity_type,
  entity_id: event.entity_id
})

/** `entity_type/entity_id`, for messages. */
export const formatStream = (stream: StreamName): string => `${stream.entity_type}/${stream.entity_id}`

/** A stream's current revision: its last event's, or `no_stream` while it has none. */
export type StreamRevision = number | "no_stream"

/**
 * What a writer expects of the stream before its append:
 * - `any`: no check (what `append`, the ingestion path, does);
 * - `no_stream`: the stream has no event yet;
 * - `stream_exists`: it has at least one;
 * - a number: its last event has exactly this revision (the revision the writer read).
 */
export type ExpectedRevision = "any" | "no_stream" | "stream_exists" | number

/** The stream was not at the expected revision; nothing was written. */
export class WrongExpectedRevisionError extends Data.TaggedError("WrongExpectedRevisionError")<{
  readonly stream: StreamName
  readonly expected: ExpectedRevision
  readonly actual: StreamRevision
  /** Set by a command handler that gave up: how many times it read, decided and tried to append. */
  readonly attempts?: number
}> {
  override get message() {
    const gaveUp =
      this.attempts === undefined
        ? ""
        : ` (gave up after ${this.attempts} attempt${this.attempts === 1 ? "" : "s"}: other writers kept moving the stream)`
    return `stream ${formatStream(this.stream)}: expected revision ${this.expected}, but it is at ${this.actual}${gaveUp}`
  }
}

/** True when a stream at `actual` meets `expected`. */
export const meetsExpectedRevision = (expected: ExpectedRevision, actual: StreamRevision): boolean =>
  expected === "any" ||
  (expected === "no_stream"
    ? actual === "no_stream"
    : expected === "stream_exists"
      ? actual !== "no_stream"
      : expected === actual)

/** Longest text of a bad value a message repeats (a 1 MB entity_id is not echoed whole). */
const SHOWN_MAX = 100

/**
 * A value as a message shows it: strings quoted, so that "3" and 3 read apart; cut to SHOWN_MAX
 * characters. Never throws.
 */
const shown = (value: unknown): string => {
  const text = (): string => {
    if (typeof value === "string") return JSON.stringify(value)
    if (typeof value === "bigint") return `${value}n`
    if (typeof value !== "object" || value === null) return String(value)
    try {
      return JSON.stringify(value) ?? "an object"
    } catch {
      return "an object"
    }
  }
  const full = text()
  return full.length <= SHOWN_MAX ? full : `${full.slice(0, SHOWN_MAX)}... (${full.length} characters)`
}

/**
 * Why `expected` cannot be an expected revision (any other string, a negative or fractional number,
 * null, a bigint...: plain JavaScript and JSON callers can pass them), or undefined. Stores refuse
 * such a call with a non-retryable StoreError naming the field.
 */
export const expectedRevisionProblem = (expected: unknown): string | undefined =>
  expected === "any" ||
  expected === "no_stream" ||
  expected === "stream_exists" ||
  (typeof expected === "number" && Number.isSafeInteger(expected) && expected >= 0)
    ? undefined
    : `expectedRevision must be "any", "no_stream", "stream_exists" or a revision (an integer >= 0), got ${shown(expected)}`

/** Why `stream` cannot name a stream (an entity_type or entity_id no event could have), or undefined. */
export const streamNameProblem = (stream: StreamName): string | undefined => {
  for (const field of ["entity_type", "entity_id"] as const) {
    const value: unknown = (stream as unknown as Partial<Record<string, unknown>> | null | undefined)?.[field]
    if (!isName(value))
      return `the stream's ${field} must be text of 1 to ${NAME_MAX} characters (as an event's), got ${shown(value)}`
  }
  return undefined
}

/**
 * Why an event of the batch cannot go to `stream` (it names another entity), or undefined: every
 * event of an `appendToStream` batch belongs to that stream.
 */
export const streamBatchProblem = (
  stream: StreamName,
  events: ReadonlyArray<{ readonly event_id: string; readonly entity_type: string; readonly entity_id: string }>
): string | undefined => {
  const stray = events.find((e) => e.entity_type !== stream.entity_type || e.entity_id !== stream.entity_id)
  return stray === undefined
    ? undefined
    : `event ${stray.event_id} has entity_type/entity_id ${formatStream(stray)}, not the stream's ${formatStream(stream)}`
}

export interface AppendToStreamOptions {
  /** @default "any" */
  readonly expectedRevision?: ExpectedRevision
}

/** The expected revision a call gave: "any" when it gave none (null is not none: it is refused). */
export const expectedRevisionOf = (options: AppendToStreamOptions | null | undefined): ExpectedRevision => {
  const given: unknown = options?.expectedRevision
  return given === undefined ? "any" : (given as ExpectedRevision)
}

/** What `appendToStream` did: `append`'s report, and the revision to expect on the next append. */
export interface StreamAppendResult extends AppendResult {
  /** The stream's revision after this append (unchanged when every event was a duplicate). */
  readonly nextExpectedRevision: StreamRevision
}

export interface ReadStreamOptions {
  /**
   * The first revision to return (inclusive). @default 0 forwards, the last revision backwards
   */
  readonly from?: number
  /** @default "forwards" */
  readonly direction?: "forwards" | "backwards"
  /** At most this many events. @default 1000 */
  readonly limit?: number
}

/** The page size of `readStream` when none is given. */
export const defaultReadLimit = 1000

/**
 * Why a store refuses `readStream(stream, options)`: a stream name no event could have, a negative or
 * fractional `from` or `limit`, an unknown `direction`; or undefined. Every store runs this one check.
 */
export const readStreamProblem = (
  stream: StreamName,
  options: ReadStreamOptions | null | undefined
): string | undefined => {
  const named = streamNameProblem(stream)
  if (named !== undefined) return named
  const { from, limit, direction } = (options ?? {}) as { readonly [K in keyof ReadStreamOptions]?: unknown }
  if (from !== undefined && !(typeof from === "number" && Number.isSafeInteger(from) && from >= 0))
    return `from must be an integer >= 0, got ${shown(from)}`
  if (limit !== undefined && !(typeof limit === "number" && Number.isSafeInteger(limit) && limit >= 0))
    return `limit must be an integer >= 0, got ${shown(limit)}`
  if (direction !== undefined && direction !== "forwards" && direction !== "backwards")
    return `direction must be "forwards" or "backwards", got ${shown(direction)}`
  return undefined
}
