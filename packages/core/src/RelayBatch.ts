/**
 * One relay batch: claim rows with a lease -> publish each route's rows outside any transaction ->
 * record each result (delivered | retry later | dead | released) in bulk, every write guarded by the
 * lease token. Also what an interruption does to a batch (see `runBatch`), and what a failed batch
 * reports: the rows that will be delivered again.
 */
import { Cause, Clock, Context, Data, DateTime, Duration, Effect, Metric, Random } from "effect"
import { StoreError } from "./EventStore.ts"
import { withAttemptSpans } from "./internal/AttemptSpans.ts"
import { claimBatch } from "./internal/ClaimBatch.ts"
import { deliveryAnnotations, redeliveryAnnotations } from "./internal/DeliveryAnnotations.ts"
import { forPublishing } from "./internal/RoutePublishing.ts"
import * as Metrics from "./Metrics.ts"
import { type Claimed, Completion, OutboxQueue } from "./OutboxQueue.ts"
import type { Settings } from "./RelaySettings.ts"
import { decide, type RetryPolicy } from "./RetryPolicy.ts"
import { escapeText } from "./StorableText.ts"
import { type Envelope, type PublishContext, type PublishOutcome, retryable } from "./Transport.ts"
import { Transports } from "./Transports.ts"
import { Upcasters } from "./Upcasters.ts"

/** What one batch did. */
export interface BatchReport {
  readonly claimed: number
  readonly delivered: number
  readonly retried: number
  readonly dead: number
  /**
   * Rows the transport did not send (NotSent) while it sent others: back to pending, no attempt
   * counted.
   */
  readonly released: number
  /** Results refused by the store because this worker's lease was no longer valid. */
  readonly stale: number
  /**
   * When each retry this batch recorded becomes due, and when a rate-limited route may go again
   * (Clock millis). `start` claims again then, instead of at the next poll.
   */
  readonly retriesDueAt: ReadonlyArray<number>
}

/** A report to count into (one per route, then one for the batch). */
const zeroCounts = () => ({
  claimed: 0,
  delivered: 0,
  retried: 0,
  dead: 0,
  released: 0,
  stale: 0,
  retriesDueAt: [] as Array<number>
})

const emptyReport: BatchReport = zeroCounts()

/**
 * A batch whose results could not all be recorded (the store failed or timed out): `unrecorded`
 * rows stay leased and are delivered again when their lease expires.
 */
export class BatchFailedError extends Data.TaggedError("BatchFailedError")<{
  readonly error: StoreError
  readonly unrecorded: ReadonlyArray<Envelope>
}> {}

/**
 * The error recorded for the rows of a publish that was interrupted while in flight (a request may
 * have been sent). `start` sets it to say that the grace period ended.
 */
export const InterruptedPublishReason = Context.Reference<string>("sluice/relay/InterruptedPublishReason", {
  defaultValue: () => "publish interrupted before its outcomes were known"
})

/** How far one route's publish got: what an interruption must count as attempted. */
class Progress {
  handedOver = false
  reportsSending = false
  readonly sent = new Set<string>()
  readonly sending = (envelopes: ReadonlyArray<Envelope>) => {
    for (const envelope of envelopes) this.sent.add(envelope.outbox_id)
  }
  /** The envelopes that may have reached the receiver. */
  attempted(envelopes: ReadonlyArray<Envelope>): ReadonlyArray<Envelope> {
    if (!this.handedOver) return []
    return this.reportsSending ? envelopes.filter((e) => this.sent.has(e.outbox_id)) : envelopes
  }
}

// `event` stays a getter: a store may decode the event only when it is read (PgOutbox does), and a
// transport that only forwards other fields never reads it.
const envelopeOf = (claimed: Claimed): Envelope => ({
  outbox_id: claimed.entry.outbox_id,
  get event() {
    return claimed.event
  },
  route: claimed.entry.route,
  topic: claimed.entry.topic,
  attempt: claimed.entry.attempts + 1
})

/**
 * Publishes one route's rows. A transport that breaks its contract (dies, returns the wrong number
 * of outcomes) or outlives `timeout` yields retryable outcomes, never a crash. `progress` says
 * whether the transport got the envelopes, and which ones it sent if it reports that.
 *
 * A publish that sent nothing at all (every outcome `NotSent`: a publish timeout too short for even
 * one request, a transport that never starts) counts a retryable attempt per row, where a `NotSent`
 * among other outcomes releases its row with none: otherwise such rows would be claimed and released
 * forever instead of reaching the retry ceiling. This is the relay's rule, not the transport's.
 */
const publishRoute = (
  transportName: string,
  envelopes: ReadonlyArray<Envelope>,
  timeout: Duration.Duration,
  progress: Progress
) => withAttemptSpans(envelopes, (spanOf) => publishTraced(transportName, envelopes, timeout, progress, spanOf))

const publishTraced = (
  transportName: string,
  envelopes: ReadonlyArray<Envelope>,
  timeout: Duration.Duration,
  progress: Progress,
  spanOf: PublishContext["spanOf"]
) =>
  Effect.gen(function* () {
    const transports = yield* Transports
    const transport = yield* transports.get(transportName)
    const start = yield* Clock.currentTimeMillis
    // The transport is told to be done a little earlier than the hard timeout, so that its own
    // outcomes (the deliveries among them) arrive before the timeout turns them all into retries.
    const millis = Duration.toMillis(timeout)
    const deadline = start + millis - Math.min(1000, Math.floor(millis / 10))
    progress.handedOver = true
    progress.reportsSending = transport.reportsSending === true
    const context: PublishContext =
      spanOf === undefined ? { deadline, sending: progress.sending } : { deadline, sending: progress.sending, spanOf }
    const outcomes = yield* transport.publish(envelopes, context).pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.succeed(
            envelopes.map(() => retryable(`publish took longer than ${Duration.format(timeout)} (the lease allows)`))
          )
      })
    )
    const took = (yield* Clock.currentTimeMillis) - start
    yield* Metric.update(Metrics.forRoute(Metrics.publishDuration, envelopes[0]?.route ?? ""), took / 1000)
    if (outcomes.length !== envelopes.length) {
      return envelopes.map(() =>
        retryable(`transport ${transportName} returned ${outcomes.length} outcomes for ${envelopes.length} envelopes`)
      )
    }
    // Nothing sent at all: counted as attempts (see above).
    if (outcomes.length > 0 && outcomes.every((o) => o._tag === "NotSent"))
      return outcomes.map((o) => retryable(`nothing was sent: ${o._tag === "NotSent" ? o.error : ""}`))
    return outcomes
  }).pipe(
    Effect.catchCause((cause) =>
      Cause.hasInterruptsOnly(cause)
        ? Effect.interrupt
        : Effect.succeed(envelopes.map(() => retryable(`transport ${transportName} failed: ${Cause.pretty(cause)}`)))
    )
  )

/** Turns outcomes into store writes; logs failures with the delivery's annotations. */
const settle = (
  policy: RetryPolicy,
  envelopes: ReadonlyArray<Envelope>,
  outcomes: ReadonlyArray<PublishOutcome>,
  tokens: ReadonlyMap<string, string>
) =>
  Effect.gen(function* () {
    const random = yield* Random.Random
    const completions: Array<Completion> = []
    for (const [i, envelope] of envelopes.entries()) {
      const outcome = outcomes[i]!
      const outboxId = envelope.outbox_id
      const token = tokens.get(outboxId)!
      if (outcome._tag === "Delivered") {
        completions.push(Completion.Delivered({ outboxId, token }))
        continue
      }
      if (outcome._tag === "NotSent") {
        completions.push(Completion.Release({ outboxId, token }))
        continue
      }
      const annotations = deliveryAnnotations(envelope)
      // A reason may quote a receiver's answer: U+0000 in it would make the database refuse the
      // whole batch of results, and the rows would be sent again and again.
      const reason = escapeText(outcome.error)
      if (outcome._tag === "Permanent") {
        const error = `permanent: ${reason}`
        yield* Effect.logError("dead-lettered: permanent failure").pipe(Effect.annotateLogs({ ...annotations, error }))
        completions.push(Completion.Dead({ outboxId, token, error }))
        continue
      }
      const decision = decide(policy, envelope.attempt, reason, outcome.retryAfter, random.nextDoubleUnsafe())
      if (decision._tag === "GiveUp") {
        yield* Effect.logError("dead-lettered: retries exhausted").pipe(
          Effect.annotateLogs({ ...annotations, error: decision.reason })
        )
        completions.push(Completion.Dead({ outboxId, token, error: decision.reason }))
        continue
      }
      yield* Effect.logWarning("delivery failed, will retry").pipe(
        Effect.annotateLogs({ ...annotations, error: reason, retry_in_ms: decision.delayMs })
      )
      completions.push(Completion.Retry({ outboxId, token, error: reason, delayMs: decision.delayMs }))
    }
    if (completions.length > 0) yield* Effect.logDebug("batch settled", { rows: completions.length })
    return completions
  })

/** Records one route's results and counts them (metrics once per route, not per row). */
const record = (
  route: string,
  envelopes: ReadonlyArray<Envelope>,
  completions: ReadonlyArray<Completion>,
  createdAt: ReadonlyMap<string, DateTime.Utc>,
  now: number,
  timeout: Duration.Duration
) =>
  Effect.gen(function* () {
    const store = yield* OutboxQueue
    // Bounded, so a hung database cannot hold a shutdown forever; unrecorded rows come back when
    // their lease expires.
    const report = yield* store.complete(completions).pipe(
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.fail(new StoreError({ operation: "complete", reason: "timed out recording results", retryable: true }))
      })
    )
    const rejected = new Set<string>(report.rejected)
    // Measured after the store recorded the retries: no earlier than the database's due time.
    const recordedAt = yield* Clock.currentTimeMillis
    const counts = zeroCounts()
    counts.stale = rejected.size
    const lags: Array<number> = []
    for (const [i, completion] of completions.entries()) {
      if (rejected.size > 0 && rejected.has(completion.outboxId)) {
        yield* Effect.logWarning("result refused: lease expired or taken over").pipe(
          Effect.annotateLogs(deliveryAnnotations(envelopes[i]!))
        )
      } else if (completion._tag === "Delivered") {
        counts.delivered++
        lags.push((now - DateTime.toEpochMillis(createdAt.get(completion.outboxId)!)) / 1000)
      } else if (completion._tag === "Retry") {
        counts.retried++
        counts.retriesDueAt.push(recordedAt + completion.delayMs)
      } else if (completion._tag === "Dead") counts.dead++
      else if (completion._tag === "Release") counts.released++
    }
    if (lags.length > 0) {
      // One effect for the batch's lags, not one per row.
      const lag = Metrics.forRoute(Metrics.deliveryLag, route)
      const context = yield* Effect.context<never>()
      for (const value of lags) lag.updateUnsafe(value, context)
    }
    if (counts.delivered > 0) yield* Metric.update(Metrics.forRoute(Metrics.delivered, route), counts.delivered)
    if (counts.retried > 0) yield* Metric.update(Metrics.forRoute(Metrics.retried, route), counts.retried)
    if (counts.dead > 0) yield* Metric.update(Metrics.forRoute(Metrics.deadLettered, route), counts.dead)
    if (counts.stale > 0) yield* Metric.update(Metrics.staleCompletions, counts.stale)
    return counts
  }).pipe(Effect.mapError((error) => new BatchFailedError({ error, unrecorded: envelopes })))

/**
 * Claims one batch and publishes it route by route (routes concurrently); each route's results are
 * recorded as soon as that route has them, whatever the other routes do. Each outcome becomes a
 * write: Delivered -> delivered, Retryable -> retry after the policy's backoff (or dead on the last
 * attempt), Permanent -> dead, NotSent -> released with no attempt counted, unless the route's whole
 * publish was NotSent, which counts a retryable attempt per row (see `publishRoute`). If interrupted:
 * - a route whose publish is in flight records a failed attempt for each row that may have been sent
 *   (the next request must carry the next attempt number), with the reason
 *   `InterruptedPublishReason`; on its last attempt a row is dead-lettered as after any failure.
 *   A transport that reports what it sends (`reportsSending`) has only those rows counted;
 * - rows not handed to the transport, or not yet sent by one that reports, are released (no attempt
 *   counted);
 * - a route whose outcomes are in still records them: a shutdown never drops, nor re-sends, a
 *   delivery that already happened.
 * Fails with BatchFailedError, naming the rows whose results were not recorded.
 */
export const runBatch = (
  settings: Settings
): Effect.Effect<BatchReport, StoreError | BatchFailedError, OutboxQueue | Transports> =>
  Effect.gen(function* () {
    const store = yield* OutboxQueue
    const { policy, lease, publishTimeout, routes } = settings
    const { claimed, dueAt } = yield* claimBatch(settings)
    if (claimed.length === 0) return dueAt.length === 0 ? emptyReport : { ...emptyReport, retriesDueAt: dueAt }
    const tokens = new Map(claimed.map((c) => [c.entry.outbox_id as string, c.entry.lease?.token ?? ""] as const))
    const createdAt = new Map(claimed.map((c) => [c.entry.outbox_id as string, c.entry.created_at] as const))
    const byRoute = new Map<string, Array<Envelope>>()
    for (const row of claimed) {
      const group = byRoute.get(row.entry.route) ?? []
      group.push(envelopeOf(row))
      byRoute.set(row.entry.route, group)
    }
    // Bounded like `record`: a hung database must not hold a shutdown; the lease gives the rows back.
    const release = (envelopes: ReadonlyArray<Envelope>) =>
      store
        .complete(envelopes.map((e) => Completion.Release({ outboxId: e.outbox_id, token: tokens.get(e.outbox_id)! })))
        .pipe(Effect.timeout(lease), Effect.ignore)
    // Counted as a failed attempt: recorded like any retryable failure.
    const recordInterrupted = (route: string, envelopes: ReadonlyArray<Envelope>) =>
      Effect.gen(function* () {
        const reason = yield* InterruptedPublishReason
        const now = yield* Clock.currentTimeMillis
        const completions = yield* settle(
          policy,
          envelopes,
          envelopes.map(() => retryable(reason)),
          tokens
        )
        yield* record(route, envelopes, completions, createdAt, now, lease)
      }).pipe(
        Effect.catch((failed) =>
          Effect.logError("could not record an interrupted publish").pipe(
            Effect.annotateLogs({ error: failed.error.message, ...redeliveryAnnotations(failed.unrecorded) })
          )
        )
      )
    const started = new Set<string>()
    const upcasters = yield* Upcasters
    const publishAndRecord = ([route, claimedEnvelopes]: readonly [string, ReadonlyArray<Envelope>]) =>
      // Per route: only the publish can be interrupted; once outcomes exist they are recorded.
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          started.add(route)
          const { ready, failed } = forPublishing(upcasters, routes.get(route)!, claimedEnvelopes)
          // The rows an upcaster failed on come last, each with its permanent outcome.
          const envelopes = failed.length === 0 ? ready : [...ready, ...failed.map((f) => f.envelope)]
          const progress = new Progress()
          const publish =
            ready.length === 0
              ? Effect.succeed([])
              : publishRoute(routes.get(route)!.transport, ready, publishTimeout, progress)
          const published = yield* restore(publish).pipe(
            Effect.onInterrupt(() =>
              Effect.suspend(() => {
                const attempted = progress.attempted(ready)
                const untouched = envelopes.filter((e) => !attempted.includes(e))
                return Effect.andThen(
                  attempted.length > 0 ? recordInterrupted(route, attempted) : Effect.void,
                  untouched.length > 0 ? release(untouched) : Effect.void
                )
              })
            )
          )
          const outcomes = failed.length === 0 ? published : [...published, ...failed.map((f) => f.outcome)]
          const now = yield* Clock.currentTimeMillis
          const completions = yield* settle(policy, envelopes, outcomes, tokens)
          return yield* record(route, envelopes, completions, createdAt, now, lease)
        })
      ).pipe(Effect.result)
    // One route (the common case) runs in this fiber: no fiber forked for it.
    const perRoute = yield* (
      byRoute.size === 1
        ? Effect.map(publishAndRecord(byRoute.entries().next().value!), (result) => [result])
        : Effect.forEach(byRoute, publishAndRecord, { concurrency: "unbounded" })
    ).pipe(
      // Interrupted before a route started (right after the claim): its rows go back at once.
      Effect.onInterrupt(() =>
        Effect.suspend(() => release([...byRoute].flatMap(([route, rows]) => (started.has(route) ? [] : rows))))
      )
    )
    const total = zeroCounts()
    total.claimed = claimed.length
    total.retriesDueAt.push(...dueAt)
    const failures: Array<BatchFailedError> = []
    for (const result of perRoute) {
      if (result._tag === "Failure") {
        failures.push(result.failure)
        continue
      }
      const counts = result.success
      total.delivered += counts.delivered
      total.retried += counts.retried
      total.dead += counts.dead
      total.released += counts.released
      total.stale += counts.stale
      total.retriesDueAt.push(...counts.retriesDueAt)
    }
    if (failures.length > 0) {
      return yield* new BatchFailedError({
        error: failures[0]!.error,
        unrecorded: failures.flatMap((failure) => failure.unrecorded)
      })
    }
    return total
    // No stack trace on the span: it would be the same line of this file for every batch, and
    // capturing it is a new Error per batch (8.7 µs per event in place, in a CPU profile).
  }).pipe(Effect.withSpan("sluice.relay.batch", undefined, { captureStackTrace: false }))
