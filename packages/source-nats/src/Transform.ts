/**
 * Message -> event. A stored raw payload holds everything the transform needs (the body, and the
 * subject, headers and identity in its `request`), so `sluice rederive` can run it again later.
 *
 * In order: a message with a `Sluice-Event-Type` header is an event whose body is the payload
 * (`Sluice-Entity-Type`, `Sluice-Entity-Id`, optional `Sluice-Occurred-At`); a body that is a JSON
 * event draft (`event_type`, `entity_type`, `entity_id`, `payload`, optional `occurred_at`,
 * `schema_version`) is that event; otherwise the configured mapping gives type and entity (id from
 * a header or a subject token) with the JSON body as payload. Anything else fails: the message is
 * a poison message, stored with the reason and acked.
 */
import { type EventDraft, type RawPayload, TransformError, type TransformResult } from "@sluice/core"
import { DateTime, Effect, Option } from "effect"
import type { MessageMapping } from "./Config.ts"

/** What a raw payload's `request` records about its message (MessageFetch.ts writes it). */
export interface MessageRequest {
  readonly stream: string
  readonly consumer: string
  readonly subject: string
  readonly seq: number
  /** The message's identity, the natural key of its event (see `identity`). */
  readonly id: string
  /** When JetStream stored the message (ISO-8601): the event's time unless it says otherwise. */
  readonly timestamp: string
  readonly headers: Readonly<Record<string, ReadonlyArray<string>>>
  /** Deliveries so far, this one included (above 1: a redelivery). */
  readonly deliveries: number
}

/**
 * A message's identity: its `Nats-Msg-Id` when the publisher gave one, else `stream/sequence`. The
 * id survives what the sequence does not: a mirror, a sourced stream or a republish into another
 * stream, and a producer's retry after JetStream's duplicate window.
 */
export const identity = (stream: string, seq: number, msgId: string | undefined): string =>
  msgId !== undefined && msgId.length > 0 ? `msg-id:${msgId}` : `seq:${stream}/${seq}`

const fail = (reason: string) => Effect.fail(new TransformError({ reason }))

const header = (request: MessageRequest, name: string): string | undefined => {
  const exact = request.headers[name]
  if (exact !== undefined) return exact[0]
  const wanted = name.toLowerCase()
  for (const key in request.headers) {
    if (key.toLowerCase() === wanted) return request.headers[key]![0]
  }
  return undefined
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** The instant `text` names, or why it is not one. */
const instant = (text: unknown, field: string): DateTime.Utc | string => {
  const time = typeof text === "string" ? DateTime.make(text) : Option.none()
  return Option.isSome(time)
    ? DateTime.toUtc(time.value)
    : `${field}: expected an ISO-8601 time, got ${JSON.stringify(text)}`
}

/** The entity id the mapping reads: the header, else the subject token. */
const mappedEntityId = (mapping: MessageMapping, request: MessageRequest): string | undefined => {
  if (mapping.entityIdHeader !== undefined) {
    const value = header(request, mapping.entityIdHeader)
    if (value !== undefined && value.length > 0) return value
  }
  const tokens = request.subject.split(".")
  const index = mapping.entityIdToken ?? -1
  const token = tokens[index < 0 ? tokens.length + index : index]
  return token === undefined || token.length === 0 ? undefined : token
}

/** The one event of a message, or why there is none. */
type Outcome = EventDraft | string

const draftFromFields = (request: MessageRequest, body: Readonly<Record<string, unknown>>): Outcome => {
  const occurred =
    body.occurred_at === undefined ? instant(request.timestamp, "timestamp") : instant(body.occurred_at, "occurred_at")
  if (typeof occurred === "string") return occurred
  const version = body.schema_version
  if (version !== undefined && !(typeof version === "number" && Number.isInteger(version) && version >= 1))
    return `schema_version: expected a positive integer, got ${JSON.stringify(version)}`
  return {
    event_type: body.event_type as string,
    entity_type: body.entity_type as string,
    entity_id: body.entity_id as string,
    occurred_at: occurred,
    payload: body.payload,
    natural_key: request.id,
    ...(version === undefined ? {} : { schema_version: version as number })
  } satisfies EventDraft
}

const isDraft = (body: unknown): body is Readonly<Record<string, unknown>> =>
  isRecord(body) &&
  typeof body.event_type === "string" &&
  typeof body.entity_type === "string" &&
  typeof body.entity_id === "string" &&
  "payload" in body

const outcome = (mapping: MessageMapping | undefined, request: MessageRequest, body: unknown): Outcome => {
  const eventType = header(request, "Sluice-Event-Type")
  if (eventType !== undefined) {
    const entityType = header(request, "Sluice-Entity-Type")
    const entityId = header(request, "Sluice-Entity-Id")
    if (entityType === undefined || entityId === undefined)
      return "a Sluice-Event-Type message needs Sluice-Entity-Type and Sluice-Entity-Id headers"
    const at = header(request, "Sluice-Occurred-At")
    return draftFromFields(request, {
      event_type: eventType,
      entity_type: entityType,
      entity_id: entityId,
      payload: body,
      ...(at === undefined ? {} : { occurred_at: at })
    })
  }
  if (isDraft(body)) return draftFromFields(request, body)
  if (mapping === undefined)
    return "not an event: no Sluice-Event-Type header, not a JSON event draft, and the source has no mapping"
  const entityId = mappedEntityId(mapping, request)
  if (entityId === undefined)
    return `no entity id: no ${mapping.entityIdHeader ?? "id"} header and no such subject token`
  return draftFromFields(request, {
    event_type: mapping.eventType,
    entity_type: mapping.entityType,
    entity_id: entityId,
    payload: body
  })
}

/** The transformer of a source with `mapping` (or none). Plain code: it runs for every message. */
export const transform =
  (mapping: MessageMapping | undefined) =>
  (raw: RawPayload): Effect.Effect<TransformResult, TransformError> => {
    let body: unknown
    try {
      body = JSON.parse(raw.body)
    } catch (error) {
      return Effect.fail(new TransformError({ reason: `the message is not JSON: ${String(error)}`, cause: error }))
    }
    const result = outcome(mapping, raw.request as unknown as MessageRequest, body)
    return typeof result === "string" ? fail(result) : Effect.succeed({ events: [result], issues: [] })
  }
