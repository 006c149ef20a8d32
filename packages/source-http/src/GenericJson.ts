/**
 * The generic JSON transformer: events pushed as JSON without writing a transformer. Either the body
 * holds event drafts (`format.type: "events"`), or each object of it is one event's payload and the
 * config says where its type, entity and time are (`"mapped"`, JSON Pointers). A body that is not
 * JSON fails as a whole; each bad item is an issue naming its index and every bad field.
 */
import {
  Event,
  type EventDraft,
  type RawPayload,
  TransformError,
  type TransformResult,
  UtcTimestamp
} from "@sluice/core"
import { Cause, DateTime, Effect, type Exit, Schema, SchemaIssue } from "effect"
import { type FieldRef, type FormatConfig, keyedNeedsTime } from "./PushConfig.ts"

const formatIssue = SchemaIssue.makeFormatterDefault()

const Text = Schema.String.pipe(Schema.check(Schema.isNonEmpty()))
const NaturalKey = Text.pipe(Schema.check(Schema.isMaxLength(500)))

/**
 * An event draft as JSON: what `format.type: "events"` accepts, one object or an array. Its fields
 * follow the canonical event's rules (core's `Event`), so a refusal names every bad field at once.
 */
export const DraftJson = Schema.Struct({
  event_type: Event.fields.event_type,
  entity_type: Event.fields.entity_type,
  entity_id: Event.fields.entity_id,
  payload: Event.fields.payload,
  /** @default the time the request was received */
  occurred_at: Schema.optionalKey(UtcTimestamp),
  natural_key: Schema.optionalKey(NaturalKey),
  schema_version: Schema.optionalKey(Event.fields.schema_version)
}).check(keyedNeedsTime)
// The hot path decodes the draft's shape only: completing it into an event checks the canonical
// rules anyway (and walks the payload once). A draft the shape refuses is decoded again with
// `DraftJson` to name every bad field, not only those the shape checks.
const DraftShape = Schema.Struct({
  event_type: Text,
  entity_type: Text,
  entity_id: Text,
  payload: Schema.Json,
  occurred_at: Schema.optionalKey(UtcTimestamp),
  natural_key: Schema.optionalKey(NaturalKey),
  schema_version: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))))
}).check(keyedNeedsTime)
const decodeShape = Schema.decodeUnknownExit(DraftShape)
const decodeDraft = Schema.decodeUnknownExit(DraftJson)
const parseOptions = { errors: "all", onExcessProperty: "error" } as const

/** What a refused decode says, on one line. */
const describe = (cause: Cause.Cause<Schema.SchemaError>): string => {
  const reason = cause.reasons.find(Cause.isFailReason)
  return (reason === undefined ? String(cause) : formatIssue(reason.error.issue)).replace(/\n\s*/g, " ")
}

/** The value at a JSON Pointer (RFC 6901), or undefined. */
export const pointer = (value: unknown, path: string): unknown => {
  if (path === "") return value
  let at: unknown = value
  for (const raw of path.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~")
    if (typeof at !== "object" || at === null) return undefined
    at = Array.isArray(at)
      ? /^(0|[1-9]\d*)$/.test(key)
        ? at[Number(key)]
        : undefined
      : (at as Record<string, unknown>)[key]
  }
  return at
}

const refText = (item: unknown, ref: FieldRef): string | undefined => {
  if (typeof ref === "string") return ref
  const value = pointer(item, ref.pointer)
  if (typeof value === "string" && value.length > 0) return value
  if (typeof value === "number" && Number.isFinite(value)) return String(value)
  return undefined
}

const refName = (ref: FieldRef): string => (typeof ref === "string" ? JSON.stringify(ref) : ref.pointer)

const parseJson = (raw: RawPayload): unknown => {
  try {
    return JSON.parse(raw.body) as unknown
  } catch (cause) {
    return new TransformError({ reason: `body is not JSON: ${(cause as Error).message}`, cause })
  }
}

const items = (body: unknown): ReadonlyArray<unknown> => (Array.isArray(body) ? body : [body])

/**
 * Issues in item order. An item whose shape is fine can still break the event rules (a dotted
 * event type): completing the drafts finds that, but only when no item was refused. So once one is,
 * the accepted items are checked here too (`later`), and the refusal names every bad item.
 */
const byIndex = (issues: Array<readonly [number, string]>, later: () => Array<readonly [number, string]>) =>
  issues.length === 0
    ? []
    : [...issues, ...later()].sort(([a], [b]) => a - b).map(([index, issue]) => `[${index}]: ${issue}`)

const fromDrafts = (raw: RawPayload, body: unknown): TransformResult => {
  const events: Array<EventDraft> = []
  const issues: Array<readonly [number, string]> = []
  const accepted: Array<readonly [number, unknown]> = []
  items(body).forEach((item, index) => {
    const exit = decodeShape(item, parseOptions)
    if (exit._tag === "Failure") {
      const strict = decodeDraft(item, parseOptions)
      issues.push([index, describe(strict._tag === "Failure" ? strict.cause : exit.cause)])
      return
    }
    accepted.push([index, item])
    const draft = exit.value
    events.push({
      event_type: draft.event_type,
      entity_type: draft.entity_type,
      entity_id: draft.entity_id,
      payload: draft.payload,
      occurred_at: draft.occurred_at ?? raw.received_at,
      ...(draft.natural_key === undefined ? {} : { natural_key: draft.natural_key }),
      ...(draft.schema_version === undefined ? {} : { schema_version: draft.schema_version })
    })
  })
  return {
    events,
    issues: byIndex(issues, () =>
      accepted.flatMap(([index, item]) => {
        const strict = decodeDraft(item, parseOptions)
        return strict._tag === "Failure" ? [[index, describe(strict.cause)] as const] : []
      })
    )
  }
}

// The canonical rules of the mapped fields, checked when an item is refused (completing the drafts
// checks them otherwise): the refusal then names the found fields that are bad too. The natural
// key is checked on every item: completing a draft only hashes it.
const naturalKeyRule = Schema.decodeUnknownExit(NaturalKey)
const fieldRules: Record<string, (value: unknown) => Exit.Exit<unknown, Schema.SchemaError>> = {
  event_type: Schema.decodeUnknownExit(Event.fields.event_type),
  entity_type: Schema.decodeUnknownExit(Event.fields.entity_type),
  entity_id: Schema.decodeUnknownExit(Event.fields.entity_id),
  natural_key: naturalKeyRule
}

const fieldProblems = (found: ReadonlyArray<readonly [string, FieldRef, string]>): Array<string> =>
  found.flatMap(([field, ref, value]) => {
    const exit = fieldRules[field]?.(value)
    return exit?._tag === "Failure" ? [`${field} (${refName(ref)}): ${describe(exit.cause)}`] : []
  })

const fromMapped = (
  raw: RawPayload,
  body: unknown,
  format: Extract<FormatConfig, { type: "mapped" }>
): TransformResult => {
  const events: Array<EventDraft> = []
  const issues: Array<readonly [number, string]> = []
  const accepted: Array<readonly [number, ReadonlyArray<readonly [string, FieldRef, string]>]> = []
  items(body).forEach((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      issues.push([index, "expected a JSON object"])
      return
    }
    const missing: Array<string> = []
    const found: Array<readonly [string, FieldRef, string]> = []
    const need = (field: string, ref: FieldRef) => {
      const value = refText(item, ref)
      if (value === undefined) missing.push(`${field} (${refName(ref)}): expected a non-empty string or a number`)
      else found.push([field, ref, value])
      return value ?? ""
    }
    const event_type = need("event_type", format.event_type)
    const entity_type = need("entity_type", format.entity_type)
    const entity_id = need("entity_id", format.entity_id)
    const natural_key = format.natural_key === undefined ? undefined : need("natural_key", format.natural_key)
    let occurred_at = raw.received_at
    if (format.occurred_at !== undefined) {
      const text = need("occurred_at", format.occurred_at)
      const parsed = DateTime.make(text)
      if (parsed._tag === "Some") occurred_at = DateTime.toUtc(parsed.value)
      else if (text !== "") missing.push(`occurred_at (${refName(format.occurred_at)}): expected an ISO-8601 time`)
    }
    const keyRefused = natural_key !== undefined && naturalKeyRule(natural_key)._tag === "Failure"
    if (missing.length > 0 || keyRefused) {
      issues.push([index, [...missing, ...fieldProblems(found)].join("; ")])
      return
    }
    accepted.push([index, found])
    events.push({
      event_type,
      entity_type,
      entity_id,
      payload: item,
      occurred_at,
      ...(natural_key === undefined ? {} : { natural_key })
    })
  })
  return {
    events,
    issues: byIndex(issues, () =>
      accepted.flatMap(([index, found]) => {
        const problems = fieldProblems(found)
        return problems.length === 0 ? [] : [[index, problems.join("; ")] as const]
      })
    )
  }
}

/** The transformer of `format`, run synchronously (the push handler's hot path needs no Effect). */
export const transformSync =
  (format: FormatConfig) =>
  (raw: RawPayload): TransformResult | TransformError => {
    const body = parseJson(raw)
    if (body instanceof TransformError) return body
    return format.type === "events" ? fromDrafts(raw, body) : fromMapped(raw, body, format)
  }

/** The transformer of `format`. */
export const transformer = (format: FormatConfig) => {
  const run = transformSync(format)
  return (raw: RawPayload): Effect.Effect<TransformResult, TransformError> => {
    const result = run(raw)
    return result instanceof TransformError ? Effect.fail(result) : Effect.succeed(result)
  }
}

/** The delivery id a push handler recorded with a raw payload (`request.delivery_id`), if any. */
export const deliveryIdOf = (raw: RawPayload): string | undefined => {
  const request = raw.request
  if (typeof request !== "object" || request === null || Array.isArray(request)) return undefined
  const id = (request as { readonly delivery_id?: unknown }).delivery_id
  return typeof id === "string" && id.length > 0 ? id : undefined
}

/**
 * `transform` whose drafts without a natural key get `<delivery id>#<index>` when the payload was
 * delivered with an id: a redelivery, and a re-derivation (`sluice rederive`), then give the same
 * event ids as the first delivery did.
 */
export const withDeliveryKeys =
  (transform: (raw: RawPayload) => Effect.Effect<TransformResult, TransformError>) =>
  (raw: RawPayload): Effect.Effect<TransformResult, TransformError> =>
    deliveryIdOf(raw) === undefined
      ? transform(raw)
      : Effect.map(transform(raw), (result) => deliveryKeyed(raw, result))

/** `result` with `withDeliveryKeys`'s keys, for a payload delivered with an id. */
export const deliveryKeyed = (raw: RawPayload, result: TransformResult): TransformResult => {
  const id = deliveryIdOf(raw)
  if (id === undefined) return result
  return {
    ...result,
    events: result.events.map((draft, index) =>
      draft.natural_key === undefined ? { ...draft, natural_key: `${id}#${index}` } : draft
    )
  }
}
