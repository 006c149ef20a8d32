/**
 * The relay pipeline: claim a batch with a lease -> publish outside any transaction -> record each
 * result (delivered | retry later | dead) in bulk, every write guarded by the lease token.
 *
 * A worker that dies leaves leases that expire, and the rows become claimable again: delivery is
 * at-least-once, and every envelope carries the event id so receivers can deduplicate.
 */
import { Cause, Clock, DateTime, Duration, Effect, Metric, Random } from "effect"
import { type Claimed, Completion, EventStore, type StoreError } from "./EventStore.ts"
import * as Metrics from "./Metrics.ts"
import { decide, defaultRetryPolicy, type RetryPolicy } from "./RetryPolicy.ts"
import type { Route } from "./Routing.ts"
import { type Envelope, type PublishOutcome, retryable } from "./Transport.ts"
import { Transports } from "./Transports.ts"

export interface RelayOptions {
  /** The routes this relay delivers; rows of other routes are left for other relays. */
  readonly routes: ReadonlyArray<Route>
  /** Lease owner recorded on claimed rows (process and worker). @default "relay" */
  readonly owner?: string
  /** Rows claimed at once. @default 100 */
  readonly batchSize?: number
  /** How long a claim holds its rows. Keep it well above a batch's publish time. @default 30 seconds */
  readonly lease?: Duration.Input
  /** @default defaultRetryPolicy (5 attempts) */
  readonly retryPolicy?: RetryPolicy
  /** Longest wait between claims when idle and no notification arrives. @default 1 second */
  readonly pollInterval?: Duration.Input
  /** Concurrent workers in `run`. @default 1 */
  readonly workers?: number
}

/** What one batch did. */
export interface BatchReport {
  readonly claimed: number
  readonly delivered: number
  readonly retried: number
  readonly dead: number
  /** Results refused by the store because this worker's lease was no longer valid. */
  readonly stale: number
}

const emptyReport: BatchReport = { claimed: 0, delivered: 0, retried: 0, dead: 0, stale: 0 }

const envelopeOf = (claimed: Claimed): Envelope => ({
  outbox_id: claimed.entry.outbox_id,
  event: claimed.event,
  route: claimed.entry.route,
  topic: claimed.entry.topic,
  attempt: claimed.entry.attempts + 1
})

/** Publishes one route's rows; a transport that breaks its contract yields retryable outcomes, never a crash. */
const publishRoute = (transportName: string, envelopes: ReadonlyArray<Envelope>) =>
  Effect.gen(function* () {
    const transports = yield* Transports
    const transport = yield* transports.get(transportName)
    const start = yield* Clock.currentTimeMillis
    const outcomes = yield* transport.publish(envelopes)
    const took = (yield* Clock.currentTimeMillis) - start
    const route = envelopes[0]?.route ?? ""
    yield* Metric.update(Metrics.forRoute(Metrics.publishDuration, route), took)
    return envelopes.map(
      (_, i): PublishOutcome =>
        outcomes.length === envelopes.length
          ? outcomes[i]!
          : retryable(
              `transport ${transportName} returned ${outcomes.length} outcomes for ${envelopes.length} envelopes`
            )
    )
  }).pipe(
    Effect.catchCause((cause) =>
      Effect.succeed(envelopes.map(() => retryable(`transport ${transportName} failed: ${Cause.pretty(cause)}`)))
    )
  )

/** Turns one outcome into the store write and logs it with the event's annotations. */
const settle = (
  policy: RetryPolicy,
  envelope: Envelope,
  token: string,
  outcome: PublishOutcome,
  now: number
): Effect.Effect<Completion> =>
  Effect.gen(function* () {
    const annotations = {
      event_id: envelope.event.event_id,
      trace_id: envelope.event.trace_id,
      attempt: envelope.attempt,
      route: envelope.route,
      topic: envelope.topic
    }
    const id = envelope.outbox_id
    switch (outcome._tag) {
      case "Delivered":
        yield* Effect.logDebug("delivered").pipe(Effect.annotateLogs(annotations))
        return Completion.Delivered({ outbox_id: id, token })
      case "Permanent":
        yield* Effect.logError("dead-lettered: permanent failure").pipe(
          Effect.annotateLogs({ ...annotations, error: outcome.error })
        )
        return Completion.Dead({ outbox_id: id, token, error: `permanent: ${outcome.error}` })
      case "Retryable": {
        const decision = decide(policy, envelope.attempt, outcome.error, outcome.retryAfter, yield* Random.next)
        if (decision._tag === "GiveUp") {
          yield* Effect.logError("dead-lettered: retries exhausted").pipe(
            Effect.annotateLogs({ ...annotations, error: decision.reason })
          )
          return Completion.Dead({ outbox_id: id, token, error: decision.reason })
        }
        yield* Effect.logWarning("delivery failed, will retry").pipe(
          Effect.annotateLogs({ ...annotations, error: outcome.error, retry_in_ms: decision.delayMs })
        )
        return Completion.Retry({
          outbox_id: id,
          token,
          error: outcome.error,
          next_attempt_at: DateTime.makeUnsafe(now + decision.delayMs)
        })
      }
    }
  })

/**
 * Claims one batch, publishes it route by route (routes concurrently) and records the results.
 * If interrupted while publishing, the rows are released so another worker can take them at once;
 * once the outcomes are in, recording them is not interruptible.
 */
export const runOnce = (options: RelayOptions): Effect.Effect<BatchReport, StoreError, EventStore | Transports> =>
  // Only the claim and the publish can be interrupted: once outcomes exist they are recorded, so a
  // shutdown never throws away a delivery that happened.
  Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const policy = options.retryPolicy ?? defaultRetryPolicy
      const routes = new Map(options.routes.map((route) => [route.name, route] as const))
      const claimed = yield* restore(
        store.claim({
          owner: options.owner ?? "relay",
          limit: options.batchSize ?? 100,
          lease: Duration.fromInputUnsafe(options.lease ?? "30 seconds"),
          routes: [...routes.keys()]
        })
      )
      if (claimed.length === 0) return emptyReport
      const tokens = new Map(claimed.map((c) => [c.entry.outbox_id, c.entry.lease?.token ?? ""] as const))
      const createdAt = new Map(claimed.map((c) => [c.entry.outbox_id, c.entry.created_at] as const))
      const byRoute = new Map<string, Array<Envelope>>()
      for (const row of claimed) {
        const group = byRoute.get(row.entry.route) ?? []
        group.push(envelopeOf(row))
        byRoute.set(row.entry.route, group)
      }
      const release = store
        .complete(
          claimed.map((c) =>
            Completion.Release({ outbox_id: c.entry.outbox_id, token: tokens.get(c.entry.outbox_id)! })
          )
        )
        .pipe(Effect.ignore)
      const published = yield* restore(
        Effect.forEach(
          byRoute,
          ([routeName, envelopes]) =>
            Effect.map(publishRoute(routes.get(routeName)!.transport, envelopes), (outcomes) =>
              envelopes.map((envelope, i) => [envelope, outcomes[i]!] as const)
            ),
          { concurrency: "unbounded" }
        )
      ).pipe(Effect.onInterrupt(() => release))
      const results = published.flat()
      const now = yield* Clock.currentTimeMillis
      const completions = yield* Effect.forEach(results, ([envelope, outcome]) =>
        settle(policy, envelope, tokens.get(envelope.outbox_id)!, outcome, now)
      )
      const report = yield* store.complete(completions)
      const rejected = new Set(report.rejected)
      const counts = { delivered: 0, retried: 0, dead: 0 }
      for (const [i, completion] of completions.entries()) {
        const [envelope] = results[i]!
        if (rejected.has(completion.outbox_id)) {
          yield* Effect.logWarning("result refused: lease expired or taken over").pipe(
            Effect.annotateLogs({ event_id: envelope.event.event_id, attempt: envelope.attempt, route: envelope.route })
          )
          continue
        }
        if (completion._tag === "Delivered") {
          counts.delivered++
          yield* Metric.update(Metrics.forRoute(Metrics.delivered, envelope.route), 1)
          yield* Metric.update(
            Metrics.forRoute(Metrics.deliveryLag, envelope.route),
            now - DateTime.toEpochMillis(createdAt.get(envelope.outbox_id)!)
          )
        } else if (completion._tag === "Retry") {
          counts.retried++
          yield* Metric.update(Metrics.forRoute(Metrics.retried, envelope.route), 1)
        } else if (completion._tag === "Dead") {
          counts.dead++
          yield* Metric.update(Metrics.forRoute(Metrics.deadLettered, envelope.route), 1)
        }
      }
      if (rejected.size > 0) yield* Metric.update(Metrics.staleCompletions, rejected.size)
      return { claimed: claimed.length, ...counts, stale: rejected.size }
    })
  ).pipe(Effect.withSpan("sluice.relay.batch"))

/**
 * Runs `workers` relay loops forever. A loop claims again at once after a full batch, and otherwise
 * waits for a store notification or `pollInterval`. Store errors are logged and retried after
 * `pollInterval`; the loop never fails. Interrupt it to stop (in-flight rows are released).
 */
export const run = (options: RelayOptions): Effect.Effect<never, never, EventStore | Transports> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const workers = Math.max(1, options.workers ?? 1)
    const batchSize = options.batchSize ?? 100
    const poll = Duration.fromInputUnsafe(options.pollInterval ?? "1 second")
    const loop = (worker: number) =>
      Effect.gen(function* () {
        const owner = `${options.owner ?? "relay"}/${worker}`
        while (true) {
          const result = yield* Effect.result(runOnce({ ...options, owner }))
          if (result._tag === "Failure") {
            yield* Effect.logError("relay batch failed", { error: result.failure.message })
            yield* Effect.sleep(poll)
          } else if (result.success.claimed < batchSize) {
            yield* store.waitForWork(poll).pipe(Effect.catch(() => Effect.sleep(poll)))
          }
        }
      })
    return yield* Effect.forEach(
      Array.from({ length: workers }, (_, i) => i),
      loop,
      {
        concurrency: "unbounded",
        discard: true
      }
    ).pipe(Effect.andThen(Effect.never))
  })
