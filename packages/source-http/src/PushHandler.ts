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
 * nothing and is answered with the first delivery's event ids, from its stored payload; an id
 * reused with another body (content hash) is answered 422. Concurrent deliveries are appended
 * together (GroupCommit.ts).
 */
import {
  ContentHash,
  EventStore,
  Ids,
  Metrics,
  type RawPayloadId,
  type Router,
  type Source,
  type StoreError
} from "@sluice/core"
import { Cause, Clock, type Context, Data, Duration, Effect, Metric, Random, Schema } from "effect"
import { refused, unavailable } from "./Answers.ts"
import * as BodyReader from "./BodyReader.ts"
import * as GroupCommit from "./GroupCommit.ts"
import { HandlerConfig } from "./PushConfig.ts"
import { type Delivery, makeIngest } from "./PushIngest.ts"
import { bodyRefused, type Checked, checkRequest, deliveryIdOf, unauthorized } from "./PushRequest.ts"
import { type InvalidSecretError, makeVerifier } from "./Verification.ts"

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
    const { config, name } = options
    const verifier = yield* makeVerifier(config.auth)
    const store = yield* EventStore
    // Its series read 0 before the first request, as a polled source's do before its first tick.
    yield* Metrics.initialiseSource(name)
    const context = yield* Effect.context<never>()
    // Read once: the hot path draws ids and reads the time in place.
    const clock = yield* Clock.Clock
    const random = yield* Random.Random
    const ingest = makeIngest({
      name,
      config,
      router: options.router,
      store,
      append: yield* GroupCommit.make(store, { maxEvents: config.limits.maxEvents }),
      verifier,
      transform: options.transform,
      // The runner provides node:crypto's digest; core's portable SHA-256 otherwise.
      hash: yield* ContentHash,
      clock,
      random,
      context
    })
    const readBody = yield* BodyReader.make(
      config.limits.maxBodyBytes,
      Duration.fromInputUnsafe(config.limits.timeout as Duration.Input)
    )
    const countAnswer = answerCounter(name, context)
    const failed = failedAnswer(name, config)
    let draining = false

    /** After the signature: the delivery id, then the ingest, its store errors retried. */
    const verified = (request: Request, checked: Checked, body: Uint8Array, now: number) => {
      const deliveryId = deliveryIdOf(request)
      if (deliveryId instanceof Response) return Effect.succeed(deliveryId)
      const rawId =
        deliveryId === undefined ? (Ids.uuidV7From(now, random) as RawPayloadId) : deliveryRawId(name, deliveryId)
      const delivery: Delivery = { request, path: checked.path, media: checked.media, body, deliveryId, rawId, now }
      return retryingStore(ingest(delivery))
    }

    const serve = (request: Request): Effect.Effect<Response, StoreError> => {
      if (draining) return Effect.succeed(unavailable("the server is shutting down", config.retryAfterSeconds))
      const now = clock.currentTimeMillisUnsafe()
      const checked = checkRequest(request, config, verifier, now)
      if (checked instanceof Response) return Effect.succeed(checked)
      return Effect.flatMap(readBody(request), (body) => {
        if (BodyReader.isProblem(body)) return Effect.succeed(bodyRefused(body, config))
        if (verifier.body === undefined) return verified(request, checked, body, now)
        return Effect.flatMap(verifier.body(request.headers, body), (bad) =>
          bad === undefined ? verified(request, checked, body, now) : Effect.succeed(unauthorized(verifier, bad))
        )
      })
    }

    const handle = (request: Request): Effect.Effect<Response> =>
      serve(request).pipe(
        Effect.catchCause(failed),
        Effect.map(countAnswer),
        Effect.withSpan("sluice.push.request", { attributes: { "sluice.source": name } }, { captureStackTrace: false })
      )

    return {
      handle,
      fetch: (request) => Effect.runPromiseWith(context)(handle(request)),
      drain: Effect.sync(() => {
        draining = true
      })
    }
  })

/** Counts each answer by status (labelled once per status: built per request it cost more than its update). */
const answerCounter = (name: string, context: Context.Context<never>) => {
  const byStatus = new Map<number, Metric.Metric<number, unknown>>()
  return (response: Response): Response => {
    let metric = byStatus.get(response.status)
    if (metric === undefined) {
      metric = pushRequests.pipe(Metric.withAttributes({ source: name, status: String(response.status) }))
      byStatus.set(response.status, metric)
    }
    metric.updateUnsafe(1, context)
    return response
  }
}

/** What a failed request answers: 503/500 for the store, 500 for a bug (nothing was committed). */
const failedAnswer =
  (name: string, config: HandlerConfig) =>
  (cause: Cause.Cause<StoreError>): Effect.Effect<Response> => {
    const error = cause.reasons.find(Cause.isFailReason)?.error
    if (error !== undefined)
      return Effect.as(
        Effect.logWarning("push: store unavailable").pipe(Effect.annotateLogs({ source: name, error: error.message })),
        error.retryable
          ? unavailable("the store is unavailable: try again later", config.retryAfterSeconds)
          : refused(500, { error: "store_error", reason: error.reason })
      )
    return Effect.as(
      Effect.logError("push: request failed").pipe(Effect.annotateLogs({ source: name, error: Cause.pretty(cause) })),
      refused(500, { error: "internal", reason: "internal error: nothing was stored" })
    )
  }

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
