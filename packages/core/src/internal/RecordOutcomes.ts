/**
 * One route's results: outcomes become store writes (delivered | retry after the policy's backoff |
 * dead | released), recorded in bulk under the lease tokens and counted into the route's metrics.
 */
import { Clock, Data, DateTime, type Duration, Effect, Metric, Random } from "effect"
import { StoreError } from "../EventStore.ts"
import * as Metrics from "../Metrics.ts"
import { Completion, OutboxQueue } from "../OutboxQueue.ts"
import { decide, type RetryPolicy } from "../RetryPolicy.ts"
import { escapeText } from "../StorableText.ts"
import type { Envelope, PublishOutcome } from "../Transport.ts"
import { deliveryAnnotations } from "./DeliveryAnnotations.ts"

/** A report to count into (one per route, then one for the batch). */
export const zeroCounts = () => ({
  claimed: 0,
  delivered: 0,
  retried: 0,
  dead: 0,
  released: 0,
  stale: 0,
  retriesDueAt: [] as Array<number>
})

/**
 * A batch whose results could not all be recorded (the store failed or timed out): `unrecorded`
 * rows stay leased and are delivered again when their lease expires.
 */
export class BatchFailedError extends Data.TaggedError("BatchFailedError")<{
  readonly error: StoreError
  readonly unrecorded: ReadonlyArray<Envelope>
}> {}

/** Turns outcomes into store writes; logs failures with the delivery's annotations. */
export const settle = (
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
export const record = (
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
