/**
 * What the push handler does with a verified body: keep it as a raw payload, transform it into
 * events and append both (GroupCommit.ts) before answering; a body that gives no valid events is
 * kept with its reason (400); a delivery id seen before is a redelivery (200 with the first
 * delivery's ids) or, with another body, a reused id (422). Work that needs no Effect (ids, the
 * generic transformer, the events' checks, the metrics) runs in place: this is the hot path.
 */
import {
  type ContentHasher,
  type Event,
  type EventDraft,
  type EventStore,
  Ids,
  Ingest,
  Metrics,
  outboxDrafts,
  type RawPayload,
  type RawPayloadId,
  type Router,
  type Source,
  StorableText,
  StoreError,
  TransformError,
  type TransformResult
} from "@sluice/core"
import { type Clock, type Context, DateTime, Effect, type Metric, Option, type Random } from "effect"
import { accepted, refused, reusedDeliveryId } from "./Answers.ts"
import { deliveryIdOf, deliveryKeyed, transformer, transformSync, withDeliveryKeys } from "./GenericJson.ts"
import type { GroupAppend } from "./GroupCommit.ts"
import type { HandlerConfig } from "./PushConfig.ts"
import type { Verifier } from "./Verification.ts"

/** A verified request, its body read: what `ingest` needs of it. */
export interface Delivery {
  readonly request: Request
  readonly path: string
  readonly media: string
  readonly body: Uint8Array
  readonly deliveryId: string | undefined
  readonly rawId: RawPayloadId
  readonly now: number
}

/** What one source's ingest is made of. */
export interface IngestOptions {
  readonly name: string
  readonly config: HandlerConfig
  readonly router: Router
  readonly store: EventStore["Service"]
  readonly append: GroupAppend
  readonly verifier: Verifier
  readonly transform: Source["transform"] | undefined
  readonly hash: ContentHasher
  readonly clock: Clock.Clock
  readonly random: Random.Random
  /** The context the handler was built in: its metrics are updated there. */
  readonly context: Context.Context<never>
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

const toBase64 = (bytes: Uint8Array) => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** The body as text, or as base64 with the reason when it is not UTF-8. */
const decodeBody = (bytes: Uint8Array): { readonly text: string; readonly badText?: string } => {
  try {
    return { text: utf8.decode(bytes) }
  } catch {
    return { text: toBase64(bytes), badText: "body is not valid UTF-8 (kept as base64)" }
  }
}

/** Builds a source's ingest: `(delivery) => Response`, failing only when the store does. */
export const makeIngest = (options: IngestOptions) => {
  const { name, config, store, clock, random, context } = options
  const source: Source = {
    name,
    transform: withDeliveryKeys(options.transform ?? transformer(config.format))
  } as Source
  const generic = options.transform === undefined ? transformSync(config.format) : undefined
  // Labelled once: a labelled metric built per request cost more than its update.
  const counted = {
    rawPayloads: Metrics.forSource(Metrics.rawPayloads, name),
    ingested: Metrics.forSource(Metrics.eventsIngested, name),
    duplicates: Metrics.forSource(Metrics.eventsDuplicate, name),
    transformFailures: Metrics.forSource(Metrics.transformFailures, name)
  }
  const count = (metric: Metric.Metric<number, unknown>, n: number) => {
    if (n > 0) metric.updateUnsafe(n, context)
  }

  const rawOf = (delivery: Delivery): { readonly raw: RawPayload; readonly badText: string | undefined } => {
    const { text, badText } = decodeBody(delivery.body)
    const headers: Record<string, string> = {}
    for (const header of config.keepHeaders) {
      const value = delivery.request.headers.get(header)
      if (value !== null) headers[header] = value
    }
    const raw: RawPayload = {
      raw_id: delivery.rawId,
      source: name,
      content_type: badText === undefined ? delivery.media : "application/octet-stream",
      body: text,
      request: {
        method: "POST",
        path: delivery.path,
        headers,
        auth: options.verifier.kind,
        delivery_id: delivery.deliveryId ?? null
      },
      received_at: DateTime.makeUnsafe(delivery.now),
      trace_id: Ids.traceIdFrom(random),
      content_hash: options.hash(text),
      transform_error: null
    }
    return { raw, badText }
  }

  /** The raw payload's drafts: in place for the generic transformer, else the source's as an Effect. */
  const transformRaw = (raw: RawPayload): Effect.Effect<TransformResult> => {
    if (generic !== undefined) return Effect.succeed(transformedInPlace(generic(raw), raw))
    return Effect.map(Ingest.transformSafely(source, raw), (result) =>
      result._tag === "Failure"
        ? { events: [] as ReadonlyArray<EventDraft>, issues: [result.failure.reason] }
        : result.success
    )
  }

  /** Completes drafts into events (keyed by the delivery id: `withDeliveryKeys`); issues go to `issues`. */
  const complete = (raw: RawPayload, drafts: ReadonlyArray<EventDraft>, issues: Array<string>): Array<Event> => {
    const events: Array<Event> = []
    const now = clock.currentTimeMillisUnsafe()
    for (const [index, draft] of drafts.entries()) {
      const done = Ingest.completeDraftAt(name, raw.trace_id, draft, now, random)
      if ("event" in done) events.push(done.event)
      else issues.push(`[${index}]: ${done.issue}`)
    }
    return events
  }

  /** Keeps the payload with its reason (under a fresh id: a fixed redelivery must not look stored). */
  const reject = (raw: RawPayload, issues: ReadonlyArray<string>) =>
    Effect.gen(function* () {
      const rawId = Ids.uuidV7From(clock.currentTimeMillisUnsafe(), random) as RawPayloadId
      const kept = yield* StorableText.storableRaw({ ...raw, raw_id: rawId, transform_error: issues.join("\n") })
      yield* store.append({ raw: kept, events: [], outbox: [] })
      count(counted.rawPayloads, 1)
      count(counted.transformFailures, issues.length)
      yield* Effect.logWarning("push: payload refused, kept with its reason").pipe(
        Effect.annotateLogs({ source: name, raw_id: rawId, error: issues.join("; ") })
      )
      const error = issues.some((issue) => issue.startsWith("body is not JSON")) ? "bad_json" : "invalid_events"
      return refused(400, { error, reason: issues[0]!, issues, raw_id: rawId })
    })

  /**
   * A delivery id seen before: with the stored body, the first delivery's ids, from its stored
   * payload, nothing stored; with another body, 422.
   */
  const redelivery = (stored: RawPayload, raw: RawPayload) =>
    stored.content_hash !== raw.content_hash
      ? Effect.succeed(reusedDeliveryId(deliveryIdOf(raw) ?? ""))
      : Effect.map(transformRaw(stored), (drafts) => {
          const ids = complete(stored, drafts.events, []).map((e) => e.event_id as string)
          count(counted.duplicates, ids.length)
          return accepted({ raw_id: stored.raw_id, event_ids: ids, appended: [], duplicates: ids, redelivery: true })
        })

  /** The stored delivery under `raw`'s id (the append found it: only its retention can have removed it since). */
  const redeliveryOf = (raw: RawPayload) =>
    Effect.flatMap(store.getRaw(raw.raw_id), (stored) =>
      Option.isSome(stored)
        ? redelivery(stored.value, raw)
        : Effect.fail(
            new StoreError({ operation: "push", reason: "the stored delivery was just pruned", retryable: true })
          )
    )

  /** A payload that gave no valid events: a redelivery still, when its id is stored; else kept with its reason. */
  const refuse = (raw: RawPayload, deliveryId: string | undefined, issues: ReadonlyArray<string>) =>
    deliveryId === undefined
      ? reject(raw, issues)
      : Effect.flatMap(store.getRaw(raw.raw_id), (stored) =>
          Option.isSome(stored) ? redelivery(stored.value, raw) : reject(raw, issues)
        )

  /** Appends the payload with its events (`once` under a delivery id) and answers with their ids. */
  const appendDelivery = (raw: RawPayload, events: ReadonlyArray<Event>, once: boolean) =>
    Effect.flatMap(StorableText.storableRaw(raw), (storable) =>
      Effect.flatMap(
        options.append({ raw: storable, events, outbox: outboxDrafts(options.router, events), once }),
        (result) => {
          // `once`: a delivery already stored (first delivered at another time, so its events' default
          // time may differ: they must not become corrections) makes the append store nothing.
          if (result.redelivered === true) return redeliveryOf(raw)
          count(counted.rawPayloads, 1)
          count(counted.ingested, result.appended.length)
          count(counted.duplicates, result.duplicates.length)
          const answer = accepted({
            raw_id: raw.raw_id,
            event_ids:
              result.corrected.length === 0 ? events.map((e) => e.event_id) : correctedIds(events, result.corrected),
            appended: [...result.appended, ...result.corrected.map((c) => c.eventId)],
            duplicates: result.duplicates,
            redelivery: false
          })
          return result.corrected.length + result.outdated.length > 0
            ? Effect.as(Ingest.reportCorrections(name, result), answer)
            : Effect.succeed(answer)
        }
      )
    )

  return (delivery: Delivery): Effect.Effect<Response, StoreError> => {
    const { raw, badText } = rawOf(delivery)
    const withDrafts = (drafts: TransformResult) => {
      const issues = [...drafts.issues]
      if (drafts.events.length > config.limits.maxEvents)
        issues.push(`${drafts.events.length} events: at most ${config.limits.maxEvents} per request`)
      const events = issues.length > 0 ? [] : complete(raw, drafts.events, issues)
      return issues.length > 0
        ? refuse(raw, delivery.deliveryId, issues)
        : appendDelivery(raw, events, delivery.deliveryId !== undefined)
    }
    if (badText !== undefined) return withDrafts({ events: [], issues: [badText] })
    return generic !== undefined
      ? withDrafts(transformedInPlace(generic(raw), raw))
      : Effect.flatMap(transformRaw(raw), withDrafts)
  }
}

const transformedInPlace = (result: TransformResult | TransformError, raw: RawPayload): TransformResult =>
  result instanceof TransformError ? { events: [], issues: [result.reason] } : deliveryKeyed(raw, result)

/** The events' ids as answered: a correction's under the id it was stored under. */
const correctedIds = (
  events: ReadonlyArray<Event>,
  corrected: ReadonlyArray<{ readonly of: string; readonly eventId: string }>
): Array<string> => {
  const correctedAs = new Map(corrected.map((c) => [c.of, c.eventId]))
  return events.map((e) => correctedAs.get(e.event_id) ?? e.event_id)
}
