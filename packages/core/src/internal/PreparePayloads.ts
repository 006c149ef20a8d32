/**
 * Fetched payloads made ready to append (Ingest.ts): each one's raw payload (kept whatever its
 * transformer does, with the reason when it failed), its events and their outbox rows.
 *
 * This runs for every message a broker source delivers, so a fetch is prepared by one loop: the
 * Clock, Random, content hasher (ContentHash.ts) and tick span are read once, ids and hashes are
 * plain functions, and an event the direct check (EventRules.ts) accepts is not decoded by the
 * schema again. Per payload only the transformer (an Effect by the Source contract) runs in the
 * payload's span.
 */
import { Clock, DateTime, Effect, Option, Random, type Result, Schema, SchemaIssue, type Tracer } from "effect"
import { ContentHash, type ContentHasher } from "../ContentHash.ts"
import { Event, type RawPayload, type TraceId } from "../Event.ts"
import type { AppendBatch } from "../EventStore.ts"
import * as EventTrace from "../EventTrace.ts"
import { deterministicEventId, deterministicRawPayloadId, nextEventId, traceIdFrom, uuidV7From } from "../Ids.ts"
import { outboxDrafts, type Router } from "../Routing.ts"
import { type EventDraft, type RawFetch, type Source, TransformError, type TransformResult } from "../Source.ts"
import { makeStorable } from "../StorableText.ts"
import { isCertainlyEvent } from "./EventRules.ts"

/** A fetched payload made ready to append: its raw payload, events, outbox rows and issues. */
export interface PreparedPayload {
  readonly batch: AppendBatch & { readonly raw: RawPayload }
  /** Why the payload, or parts of it, did not become events. */
  readonly issues: ReadonlyArray<string>
}

const formatIssue = SchemaIssue.makeFormatterDefault()
const validateEvent = Schema.decodeUnknownExit(Event)

/**
 * Runs `source`'s transformer on `raw`. A transformer that throws (JSON.parse of an HTML error
 * page...) is a transform failure like any other, with the reason.
 */
export const transformSafely = (source: Source, raw: RawPayload) =>
  source.transform(raw).pipe(
    Effect.catchDefect((defect) =>
      Effect.fail(new TransformError({ reason: `transformer crashed: ${String(defect)}`, cause: defect }))
    ),
    Effect.result
  )

type Completed = { readonly event: Event } | { readonly issue: string }

/** A draft with its id as an event: the direct check, else the schema (which explains a refusal). */
const complete = (traceId: string, draft: EventDraft, eventId: string): Completed => {
  const fields = {
    event_id: eventId,
    event_type: draft.event_type,
    entity_id: draft.entity_id,
    entity_type: draft.entity_type,
    trace_id: traceId,
    schema_version: draft.schema_version ?? 1
  }
  const occurred: unknown = draft.occurred_at
  if (DateTime.isDateTime(occurred)) {
    const candidate = { ...fields, occurred_at: DateTime.toUtc(occurred), payload: draft.payload }
    if (isCertainlyEvent(candidate)) return { event: candidate as Event }
  }
  const exit = validateEvent(
    {
      ...fields,
      occurred_at: DateTime.isDateTime(occurred) ? DateTime.formatIso(occurred) : occurred,
      payload: draft.payload
    },
    { errors: "all" }
  )
  if (exit._tag === "Success") return { event: exit.value }
  const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
  const detail =
    error !== undefined && Schema.isSchemaError(error.error) ? formatIssue(error.error.issue) : String(exit.cause)
  return { issue: `${draft.event_type} ${draft.entity_id}: ${detail.replace(/\n\s*/g, " ")}` }
}

/** Completes a draft into a canonical event, or explains (naming the field) why it cannot be one. */
export const completeDraft = (source: string, traceId: string, draft: EventDraft): Effect.Effect<Completed> =>
  draft.natural_key === undefined
    ? Effect.map(nextEventId, (id) => complete(traceId, draft, id))
    : Effect.sync(() => complete(traceId, draft, deterministicEventId(source, draft.natural_key!)))

/**
 * `completeDraft` in place (a hot path that reads its Clock and Random once): a draft without a
 * natural key gets a UUIDv7 of `unixMillis` and `random`.
 */
export const completeDraftAt = (
  source: string,
  traceId: string,
  draft: EventDraft,
  unixMillis: number,
  random: Random.Random
): Completed =>
  complete(
    traceId,
    draft,
    draft.natural_key === undefined ? uuidV7From(unixMillis, random) : deterministicEventId(source, draft.natural_key)
  )

/** What a fetch's payloads share: read once per fetch. */
interface Shared {
  readonly source: Source
  readonly router: Router
  readonly clock: Clock.Clock
  readonly random: Random.Random
  readonly hash: ContentHasher
  /** The tick's span, which each payload's span links to. */
  readonly tick: Option.Option<Tracer.Span>
}

const shared = (source: Source, router: Router): Effect.Effect<Shared> =>
  Effect.gen(function* () {
    return {
      source,
      router,
      clock: yield* Clock.Clock,
      random: yield* Random.Random,
      hash: yield* ContentHash,
      tick: yield* Effect.option(Effect.currentSpan)
    }
  })

/** The raw payload, events and outbox rows of a transformed payload, and what was changed to store it. */
const assemble = (
  { source, router, clock, random }: Shared,
  raw: RawPayload,
  transformed: Result.Result<TransformResult, TransformError>
): Effect.Effect<PreparedPayload> => {
  const issues: Array<string> = []
  const events: Array<Event> = []
  if (transformed._tag === "Failure") {
    issues.push(transformed.failure.reason)
  } else {
    issues.push(...transformed.success.issues)
    for (const draft of transformed.success.events) {
      const eventId =
        draft.natural_key === undefined
          ? uuidV7From(clock.currentTimeMillisUnsafe(), random)
          : deterministicEventId(source.name, draft.natural_key)
      const completed = complete(raw.trace_id, draft, eventId)
      if ("event" in completed) events.push(completed.event)
      else issues.push(completed.issue)
    }
  }
  // A body or request the database cannot hold is kept in a form it can, and said so (StorableText.ts).
  const storable = makeStorable(issues.length === 0 ? raw : { ...raw, transform_error: issues.join("\n") })
  const prepared: PreparedPayload = {
    batch: { raw: storable.raw, events, outbox: outboxDrafts(router, events) },
    issues
  }
  return storable.changes.length === 0
    ? Effect.succeed(prepared)
    : Effect.as(
        Effect.logWarning("raw payload changed to be storable").pipe(
          Effect.annotateLogs({ changes: storable.changes })
        ),
        prepared
      )
}

/**
 * One payload, then `then` with it, in the payload's own span in the trace its events carry
 * (EventTrace.ts: so a relay attempt days later lands in the same trace), linked to the tick that
 * fetched it.
 */
const prepareOne = <A, E, R>(
  context: Shared,
  fetched: RawFetch,
  then: (prepared: PreparedPayload) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => {
  const { source, clock, random, hash } = context
  const traceId = traceIdFrom(random)
  const now = clock.currentTimeMillisUnsafe()
  // A keyed payload delivered again gets the id it was stored under: the store keeps one copy.
  const rawId =
    fetched.key === undefined ? uuidV7From(now, random) : deterministicRawPayloadId(source.name, fetched.key)
  const raw: RawPayload = {
    raw_id: rawId as RawPayload["raw_id"],
    source: source.name,
    content_type: fetched.content_type,
    body: fetched.body,
    request: (fetched.request ?? null) as RawPayload["request"],
    received_at: DateTime.makeUnsafe(now),
    trace_id: traceId,
    content_hash: hash(fetched.body),
    transform_error: null
  }
  return Effect.withSpan(
    Effect.flatMap(
      Effect.flatMap(transformSafely(source, raw), (result) => assemble(context, raw, result)),
      then
    ),
    "sluice.ingest.payload",
    {
      parent: EventTrace.parentOf(traceId as TraceId),
      links: Option.isSome(context.tick) ? [{ span: context.tick.value, attributes: {} }] : [],
      attributes: { "sluice.source": source.name },
      captureStackTrace: false
    }
  )
}

/** Prepares a fetch's payloads, in order. */
export const preparePayloads = (
  source: Source,
  router: Router,
  fetched: ReadonlyArray<RawFetch>
): Effect.Effect<ReadonlyArray<PreparedPayload>> =>
  fetched.length === 0
    ? Effect.succeed([])
    : Effect.flatMap(shared(source, router), (context) =>
        Effect.forEach(fetched, (payload) => prepareOne(context, payload, Effect.succeed))
      )

/** Prepares one fetched payload, then runs `then` with it in the payload's span. */
export const preparePayloadThen = <A, E, R>(
  source: Source,
  router: Router,
  fetched: RawFetch,
  then: (prepared: PreparedPayload) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> => Effect.flatMap(shared(source, router), (context) => prepareOne(context, fetched, then))

/** Prepares one fetched payload. */
export const preparePayload = (source: Source, router: Router, fetched: RawFetch): Effect.Effect<PreparedPayload> =>
  preparePayloadThen(source, router, fetched, Effect.succeed)
