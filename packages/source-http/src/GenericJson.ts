/**
 * The generic JSON transformer: events pushed as JSON without writing a transformer. Either the body
 * holds event drafts (`format.type: "events"`), or each object of it is one event's payload and the
 * config says where its type, entity and time are (`"mapped"`, JSON Pointers). A body that is not
 * JSON fails as a whole; each bad item is an issue naming its index and field.
 */
import { type EventDraft, type RawPayload, TransformError, type TransformResult, UtcTimestamp } from "@sluice/core"
import { DateTime, Effect, Schema, SchemaIssue } from "effect"
import type { FieldRef, FormatConfig } from "./PushConfig.ts"

const formatIssue = SchemaIssue.makeFormatterDefault()

const Text = Schema.String.pipe(Schema.check(Schema.isNonEmpty()))

/** An event draft as JSON: what `format.type: "events"` accepts, one object or an array. */
export const DraftJson = Schema.Struct({
  event_type: Text,
  entity_type: Text,
  entity_id: Text,
  payload: Schema.Json,
  /** @default the time the request was received */
  occurred_at: Schema.optionalKey(UtcTimestamp),
  natural_key: Schema.optionalKey(Text.pipe(Schema.check(Schema.isMaxLength(500)))),
  schema_version: Schema.optionalKey(Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0))))
})
const decodeDraft = Schema.decodeUnknownExit(DraftJson)

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

const fromDrafts = (raw: RawPayload, body: unknown): TransformResult => {
  const events: Array<EventDraft> = []
  const issues: Array<string> = []
  items(body).forEach((item, index) => {
    const exit = decodeDraft(item, { errors: "all", onExcessProperty: "error" })
    if (exit._tag === "Failure") {
      const reason = exit.cause.reasons.find((r) => r._tag === "Fail")
      const detail =
        reason !== undefined && Schema.isSchemaError(reason.error)
          ? formatIssue(reason.error.issue)
          : String(exit.cause)
      issues.push(`[${index}]: ${detail.replace(/\n\s*/g, " ")}`)
      return
    }
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
  return { events, issues }
}

const fromMapped = (
  raw: RawPayload,
  body: unknown,
  format: Extract<FormatConfig, { type: "mapped" }>
): TransformResult => {
  const events: Array<EventDraft> = []
  const issues: Array<string> = []
  items(body).forEach((item, index) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) {
      issues.push(`[${index}]: expected a JSON object`)
      return
    }
    const missing: Array<string> = []
    const need = (field: string, ref: FieldRef) => {
      const value = refText(item, ref)
      if (value === undefined) missing.push(`${field} (${refName(ref)}): expected a non-empty string or a number`)
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
    if (missing.length > 0) {
      issues.push(`[${index}]: ${missing.join("; ")}`)
      return
    }
    events.push({
      event_type,
      entity_type,
      entity_id,
      payload: item,
      occurred_at,
      ...(natural_key === undefined ? {} : { natural_key })
    })
  })
  return { events, issues }
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
