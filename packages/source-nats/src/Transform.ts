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
  const wanted = name.toLowerCase()
  for (const [key, values] of Object.entries(request.headers)) {
    if (key.toLowerCase() === wanted) return values[0]
  }
  return undefined
}

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

const instant = (text: unknown, field: string) =>
  Option.match(typeof text === "string" ? DateTime.make(text) : Option.none(), {
    onNone: () => fail(`${field}: expected an ISO-8601 time, got ${JSON.stringify(text)}`),
    onSome: (time) => Effect.succeed(DateTime.toUtc(time))
  })

const parseJson = (body: string): Effect.Effect<unknown, TransformError> =>
  Effect.try({
    try: () => JSON.parse(body) as unknown,
    catch: (error) => new TransformError({ reason: `the message is not JSON: ${String(error)}`, cause: error })
  })

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

const draftFromFields = (request: MessageRequest, body: Readonly<Record<string, unknown>>) =>
  Effect.gen(function* () {
    const occurred =
      body.occurred_at === undefined
        ? yield* instant(request.timestamp, "timestamp")
        : yield* instant(body.occurred_at, "occurred_at")
    const version = body.schema_version
    if (version !== undefined && !(typeof version === "number" && Number.isInteger(version) && version >= 1))
      return yield* fail(`schema_version: expected a positive integer, got ${JSON.stringify(version)}`)
    return {
      event_type: body.event_type as string,
      entity_type: body.entity_type as string,
      entity_id: body.entity_id as string,
      occurred_at: occurred,
      payload: body.payload,
      natural_key: request.id,
      ...(version === undefined ? {} : { schema_version: version as number })
    } satisfies EventDraft
  })

const isDraft = (body: unknown): body is Readonly<Record<string, unknown>> =>
  isRecord(body) &&
  typeof body.event_type === "string" &&
  typeof body.entity_type === "string" &&
  typeof body.entity_id === "string" &&
  "payload" in body

/** The transformer of a source with `mapping` (or none). */
export const transform =
  (mapping: MessageMapping | undefined) =>
  (raw: RawPayload): Effect.Effect<TransformResult, TransformError> =>
    Effect.gen(function* () {
      const request = raw.request as unknown as MessageRequest
      const body = yield* parseJson(raw.body)
      const eventType = header(request, "Sluice-Event-Type")
      if (eventType !== undefined) {
        const entityType = header(request, "Sluice-Entity-Type")
        const entityId = header(request, "Sluice-Entity-Id")
        if (entityType === undefined || entityId === undefined)
          return yield* fail("a Sluice-Event-Type message needs Sluice-Entity-Type and Sluice-Entity-Id headers")
        const at = header(request, "Sluice-Occurred-At")
        const draft = yield* draftFromFields(request, {
          event_type: eventType,
          entity_type: entityType,
          entity_id: entityId,
          payload: body,
          ...(at === undefined ? {} : { occurred_at: at })
        })
        return { events: [draft], issues: [] }
      }
      if (isDraft(body)) return { events: [yield* draftFromFields(request, body)], issues: [] }
      if (mapping === undefined)
        return yield* fail(
          "not an event: no Sluice-Event-Type header, not a JSON event draft, and the source has no mapping"
        )
      const entityId = mappedEntityId(mapping, request)
      if (entityId === undefined)
        return yield* fail(`no entity id: no ${mapping.entityIdHeader ?? "id"} header and no such subject token`)
      const draft = yield* draftFromFields(request, {
        event_type: mapping.eventType,
        entity_type: mapping.entityType,
        entity_id: entityId,
        payload: body
      })
      return { events: [draft], issues: [] }
    })
