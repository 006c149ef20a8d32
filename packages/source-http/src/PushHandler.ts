/**
 * The push handler: a Web-standard `(Request) => Promise<Response>` (and its Effect form) that keeps
 * each request's body as a raw payload, transforms it into events and appends raw + events + outbox
 * rows in ONE store transaction before answering. 2xx means stored; 4xx means the request is wrong
 * (nothing stored but, once verified and read, the raw payload with its reason); 503 + Retry-After
 * means try again (store unavailable, server draining). Nothing here is runtime-specific: the
 * runner serves it with node:http, a Deno program with `Deno.serve(handler.fetch)`.
 *
 * Idempotency: a request naming a delivery id (`webhook-id`, else `Idempotency-Key`) gets a raw id
 * derived from (source, delivery id), and its events without a natural key get the key
 * `<delivery id>#<index>`. Its batch is appended `once` (AppendBatch.once): the store appends it
 * only if no raw payload is stored under that id, deciding in the append itself, so concurrent
 * deliveries of one id (in this process or another) store it exactly once. A redelivery stores
 * nothing and is answered with the first delivery's event ids, from its stored payload.
 */
import {
  ContentHash,
  type Event,
  type EventDraft,
  EventStore,
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
  type TraceId,
  TransformError,
  type TransformResult
} from "@sluice/core"
import { Cause, Clock, Data, DateTime, Duration, Effect, Metric, Option, Schema } from "effect"
import { accepted, refused, refusedEarly, unavailable } from "./Answers.ts"
import { isProblem, readBody } from "./BodyReader.ts"
import { deliveryKeyed, transformer, transformSync, withDeliveryKeys } from "./GenericJson.ts"
import { HandlerConfig } from "./PushConfig.ts"
import { type InvalidSecretError, makeVerifier, type Verifier } from "./Verification.ts"

/** What `makePushHandler` needs. */
export interface PushHandlerOptions {
  /** The source's name: part of every deterministic id, so keep it stable. */
  readonly name: string
  /** Which routes each event goes to. */
  readonly router: Router
  /** The handler's options as JSON (the runner's `sources[].options` without host and port). */
  readonly config: typeof HandlerConfig.Encoded
  /** A transformer of your own. @default the generic JSON transformer of `config.format` */
  readonly transform?: Source["transform"]
}

/** A push source's handler, bound to the store it was made with. */
export interface PushHandler {
  /** The Effect form: never fails; every outcome is a Response. */
  readonly handle: (request: Request) => Effect.Effect<Response>
  /** The Web-standard form, for `Deno.serve`, Bun, edge runtimes or a Node adapter. */
  readonly fetch: (request: Request) => Promise<Response>
  /** From now on answer 503 + Retry-After (requests in flight finish): call it before closing the server. */
  readonly drain: Effect.Effect<void>
}

/** The handler's options are invalid: `details` names each bad field. */
export class PushConfigError extends Data.TaggedError("PushConfigError")<{ readonly details: string }> {
  override get message() {
    return `invalid push source config:\n${this.details}`
  }
}

/** Requests answered, by source and status: a sender's mistakes (4xx) and the store's trouble (503) show here. */
export const pushRequests = Metric.counter("sluice_push_requests_total", {
  description: "Requests a push source answered, by HTTP status"
})

/** The name space of push raw ids: UUIDv5(URL, "urn:sluice:push"). */
const PushNamespace = Ids.uuidV5(Ids.UuidNamespace.URL, "urn:sluice:push")

/** The raw id of a delivery: the same source and delivery id always give the same raw id. */
export const deliveryRawId = (source: string, deliveryId: string): RawPayloadId =>
  Ids.uuidV5(PushNamespace, `${source}\u0000${deliveryId}`) as RawPayloadId

const toBase64 = (bytes: Uint8Array) => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })

/**
 * Builds the handler of one push source over the EventStore in context, from its options as JSON
 * (decoded here: a bad field is a PushConfigError naming it).
 */
export const makePushHandler = (
  options: PushHandlerOptions
): Effect.Effect<PushHandler, PushConfigError | InvalidSecretError, EventStore> =>
  Schema.decodeUnknownEffect(HandlerConfig)(options.config, { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.mapError((error) => new PushConfigError({ details: error.message })),
    Effect.flatMap((config) => makeDecodedPushHandler({ ...options, config }))
  )

/** `makePushHandler` from already-decoded options (the runner's plugin decoded them). */
export const makeDecodedPushHandler = (
  options: Omit<PushHandlerOptions, "config"> & { readonly config: HandlerConfig }
): Effect.Effect<PushHandler, InvalidSecretError, EventStore> =>
  Effect.gen(function* () {
    const { config } = options
    const verifier = yield* makeVerifier(config.auth)
    const store = yield* EventStore
    // Its series read 0 before the first request, as a polled source's do before its first tick.
    yield* Metrics.initialiseSource(options.name)
    // Labelled once: a labelled metric built per request cost more than its update.
    const counted = {
      rawPayloads: Metrics.forSource(Metrics.rawPayloads, options.name),
      ingested: Metrics.forSource(Metrics.eventsIngested, options.name),
      duplicates: Metrics.forSource(Metrics.eventsDuplicate, options.name),
      transformFailures: Metrics.forSource(Metrics.transformFailures, options.name)
    }
    const byStatus = new Map<number, Metric.Metric<number, unknown>>()
    const countAnswer = (status: number) => {
      let metric = byStatus.get(status)
      if (metric === undefined) {
        metric = pushRequests.pipe(Metric.withAttributes({ source: options.name, status: String(status) }))
        byStatus.set(status, metric)
      }
      return Metric.update(metric, 1)
    }
    const context = yield* Effect.context<never>()
    // The runner provides node:crypto's digest; core's portable SHA-256 otherwise.
    const hashContent = yield* ContentHash
    const source = {
      name: options.name,
      transform: withDeliveryKeys(options.transform ?? transformer(config.format))
    } as Source
    // The generic transformer runs in place (no Effect); a transformer of the user's own as an Effect.
    const genericTransform = options.transform === undefined ? transformSync(config.format) : undefined
    const generic =
      genericTransform === undefined
        ? undefined
        : (raw: RawPayload): TransformResult => {
            const result = genericTransform(raw)
            return result instanceof TransformError
              ? { events: [], issues: [result.reason] }
              : deliveryKeyed(raw, result)
          }
    const timeout = Duration.fromInputUnsafe(config.limits.timeout as Duration.Input)
    let draining = false

    /** What a failed request answers: 503/500 for the store, 500 for a bug (nothing was committed). */
    const failed = (cause: Cause.Cause<StoreError>): Effect.Effect<Response> => {
      const error = cause.reasons.find(Cause.isFailReason)?.error
      if (error !== undefined)
        return Effect.as(
          Effect.logWarning("push: store unavailable").pipe(
            Effect.annotateLogs({ source: options.name, error: error.message })
          ),
          error.retryable
            ? unavailable("the store is unavailable: try again later", config.retryAfterSeconds)
            : refused(500, { error: "store_error", reason: error.reason })
        )
      return Effect.as(
        Effect.logError("push: request failed").pipe(
          Effect.annotateLogs({ source: options.name, error: Cause.pretty(cause) })
        ),
        refused(500, { error: "internal", reason: "internal error: nothing was stored" })
      )
    }

    const handle = (request: Request): Effect.Effect<Response> =>
      serve(request).pipe(
        Effect.catchCause(failed),
        Effect.tap((response) => countAnswer(response.status)),
        Effect.withSpan(
          "sluice.push.request",
          { attributes: { "sluice.source": options.name } },
          { captureStackTrace: false }
        )
      )

    const serve = (request: Request): Effect.Effect<Response, StoreError> =>
      Effect.gen(function* () {
        if (draining) return unavailable("the server is shutting down", config.retryAfterSeconds)
        const path = URL.parse(request.url)?.pathname
        if (path !== config.path) return refusedEarly(404, { error: "not_found", reason: `POST to ${config.path}` })
        if (request.method !== "POST")
          return refusedEarly(405, { error: "method_not_allowed", reason: "only POST" }, { allow: "POST" })
        const contentType = request.headers.get("content-type") ?? ""
        const media = contentType.split(";")[0]!.trim().toLowerCase()
        if (!config.limits.contentTypes.includes(media))
          return refusedEarly(415, {
            error: "unsupported_media_type",
            reason: `content-type must be one of ${config.limits.contentTypes.join(", ")}`
          })
        const declared = request.headers.get("content-length")
        if (declared !== null && !/^\d+$/.test(declared))
          return refusedEarly(400, { error: "bad_request", reason: "content-length is not a number" })
        if (declared !== null && Number(declared) > config.limits.maxBodyBytes)
          return refusedEarly(413, tooLarge(config.limits.maxBodyBytes))
        const now = yield* Clock.currentTimeMillis
        const denied = yield* verifier.headers(request.headers, now)
        if (denied !== undefined) return unauthorized(verifier, denied)
        const body = yield* readBody(request, config.limits.maxBodyBytes, timeout)
        if (isProblem(body)) {
          if (body._tag === "TooLarge") return refusedEarly(413, tooLarge(config.limits.maxBodyBytes))
          if (body._tag === "TooSlow")
            return refusedEarly(408, { error: "timeout", reason: `body not received within ${config.limits.timeout}` })
          return refusedEarly(400, { error: "bad_body", reason: body.reason })
        }
        const badSignature = yield* verifier.body(request.headers, body)
        if (badSignature !== undefined) return unauthorized(verifier, badSignature)
        const deliveryId = request.headers.get("webhook-id") ?? request.headers.get("idempotency-key") ?? undefined
        if (deliveryId !== undefined && (deliveryId.length === 0 || deliveryId.length > 256))
          return refused(400, { error: "bad_delivery_id", reason: "webhook-id / Idempotency-Key: 1 to 256 characters" })
        return yield* retryingStore(ingest(request, path, media, body, deliveryId, now))
      })

    const ingest = (
      request: Request,
      path: string,
      media: string,
      bytes: Uint8Array,
      deliveryId: string | undefined,
      now: number
    ): Effect.Effect<Response, StoreError> =>
      Effect.gen(function* () {
        const rawId = deliveryId === undefined ? yield* Ids.nextRawPayloadId : deliveryRawId(options.name, deliveryId)
        let text: string
        let badText: string | undefined
        try {
          text = utf8.decode(bytes)
        } catch {
          text = toBase64(bytes)
          badText = "body is not valid UTF-8 (kept as base64)"
        }
        const headers: Record<string, string> = {}
        for (const name of config.keepHeaders) {
          const value = request.headers.get(name)
          if (value !== null) headers[name] = value
        }
        const raw: RawPayload = {
          raw_id: rawId,
          source: options.name,
          content_type: badText === undefined ? media : "application/octet-stream",
          body: text,
          request: { method: "POST", path, headers, auth: verifier.kind, delivery_id: deliveryId ?? null },
          received_at: DateTime.makeUnsafe(now),
          trace_id: yield* Ids.nextTraceId,
          content_hash: hashContent(text),
          transform_error: null
        }
        const drafts =
          badText !== undefined
            ? { events: [], issues: [badText] }
            : generic !== undefined
              ? generic(raw)
              : yield* transformRaw(raw)
        const issues = [...drafts.issues]
        if (drafts.events.length > config.limits.maxEvents)
          issues.push(`${drafts.events.length} events: at most ${config.limits.maxEvents} per request`)
        const events = issues.length > 0 ? [] : yield* complete(raw, drafts.events, issues)
        if (issues.length > 0) {
          // A fixed payload delivered again under a stored id is still a redelivery.
          if (deliveryId !== undefined) {
            const stored = yield* store.getRaw(rawId)
            if (Option.isSome(stored)) return yield* redelivery(stored.value)
          }
          return yield* reject(raw, issues)
        }
        // `once`: a delivery already stored (first delivered at another time, so its events' default
        // time may differ: they must not become corrections) makes the append store nothing.
        const result = yield* store.append({
          raw: yield* StorableText.storableRaw(raw),
          events,
          outbox: outboxDrafts(options.router, events),
          once: deliveryId !== undefined
        })
        if (result.redelivered === true) return yield* redeliveryOf(rawId)
        yield* Metric.update(counted.rawPayloads, 1)
        yield* Metric.update(counted.ingested, result.appended.length)
        if (result.duplicates.length > 0) yield* Metric.update(counted.duplicates, result.duplicates.length)
        if (result.corrected.length + result.outdated.length > 0) yield* Ingest.reportCorrections(options.name, result)
        const correctedAs = new Map(result.corrected.map((c) => [c.of as string, c.eventId as string]))
        return accepted({
          raw_id: rawId,
          event_ids:
            correctedAs.size === 0
              ? events.map((e) => e.event_id)
              : events.map((e) => correctedAs.get(e.event_id) ?? e.event_id),
          appended: [...result.appended, ...result.corrected.map((c) => c.eventId)],
          duplicates: result.duplicates,
          redelivery: false
        })
      })

    const transformRaw = (raw: RawPayload) =>
      Effect.map(Ingest.transformSafely(source, raw), (result) =>
        result._tag === "Failure"
          ? { events: [] as ReadonlyArray<EventDraft>, issues: [result.failure.reason] }
          : result.success
      )

    /** Completes drafts into events (keyed by the delivery id: `withDeliveryKeys`). */
    const complete = (
      raw: RawPayload,
      drafts: ReadonlyArray<EventDraft>,
      issues: Array<string>
    ): Effect.Effect<ReadonlyArray<Event>> =>
      Effect.gen(function* () {
        const events: Array<Event> = []
        for (const [index, draft] of drafts.entries()) {
          const done = yield* Ingest.completeDraft(options.name, raw.trace_id as TraceId, draft)
          if ("event" in done) events.push(done.event)
          else issues.push(`[${index}] ${done.issue}`)
        }
        return events
      })

    /** Keeps the payload with its reason (under a fresh id: a fixed redelivery must not look stored). */
    const reject = (raw: RawPayload, issues: ReadonlyArray<string>) =>
      Effect.gen(function* () {
        const rawId = yield* Ids.nextRawPayloadId
        const kept = yield* StorableText.storableRaw({ ...raw, raw_id: rawId, transform_error: issues.join("\n") })
        yield* store.append({ raw: kept, events: [], outbox: [] })
        yield* Metric.update(counted.rawPayloads, 1)
        yield* Metric.update(counted.transformFailures, issues.length)
        yield* Effect.logWarning("push: payload refused, kept with its reason").pipe(
          Effect.annotateLogs({ source: options.name, raw_id: rawId, error: issues.join("; ") })
        )
        const error = issues.some((issue) => issue.startsWith("body is not JSON")) ? "bad_json" : "invalid_events"
        return refused(400, { error, reason: issues[0]!, issues, raw_id: rawId })
      })

    /** The stored delivery under `rawId` (the append found it: only its retention can have removed it since). */
    const redeliveryOf = (rawId: RawPayloadId) =>
      Effect.flatMap(store.getRaw(rawId), (stored) =>
        Option.isSome(stored)
          ? redelivery(stored.value)
          : Effect.fail(
              new StoreError({ operation: "push", reason: "the stored delivery was just pruned", retryable: true })
            )
      )

    /** A delivery id seen before: the first delivery's ids, from its stored payload; nothing stored. */
    const redelivery = (raw: RawPayload) =>
      Effect.gen(function* () {
        const drafts = yield* transformRaw(raw)
        const events = yield* complete(raw, drafts.events, [])
        const ids = events.map((e) => e.event_id as string)
        yield* Metric.update(counted.duplicates, ids.length)
        return accepted({ raw_id: raw.raw_id, event_ids: ids, appended: [], duplicates: ids, redelivery: true })
      })

    return {
      handle,
      fetch: (request) => Effect.runPromiseWith(context)(handle(request)),
      drain: Effect.sync(() => {
        draining = true
      })
    }
  })

/**
 * A store error that may pass (a lost connection) is tried again, 3 times 20, 40 then 80 ms apart,
 * before answering 503. Nothing but a catch on the way of a request that succeeds.
 */
const retryingStore = <A>(self: Effect.Effect<A, StoreError>, attempt = 0): Effect.Effect<A, StoreError> =>
  Effect.catch(self, (error) =>
    error.retryable && attempt < 3
      ? Effect.andThen(Effect.sleep(Duration.millis(20 * 2 ** attempt)), retryingStore(self, attempt + 1))
      : Effect.fail(error)
  )

const tooLarge = (max: number) => ({ error: "too_large", reason: `body larger than ${max} bytes` })

const unauthorized = (verifier: Verifier, reason: string): Response =>
  refusedEarly(
    401,
    { error: "unauthorized", reason },
    verifier.kind === "bearer" ? { "www-authenticate": 'Bearer realm="sluice"' } : {}
  )
