/**
 * The relay pipeline: claim a batch with a lease -> publish outside any transaction -> record each
 * result (delivered | retry later | dead) in bulk, every write guarded by the lease token.
 *
 * A worker that dies leaves leases that expire, and the rows become claimable again: delivery is
 * at-least-once, and every envelope carries the event id so receivers can deduplicate.
 */
import { Cause, Clock, DateTime, Deferred, Duration, Effect, Fiber, Metric, Random, type Scope } from "effect"
import { type Claimed, Completion, EventStore, StoreError } from "./EventStore.ts"
import * as DueTimes from "./internal/DueTimes.ts"
import * as Metrics from "./Metrics.ts"
import { countOption, durationOption } from "./OptionError.ts"
import { decide, defaultRetryPolicy, type RetryPolicy } from "./RetryPolicy.ts"
import type { Route } from "./Routing.ts"
import { type Envelope, PublishDeadline, type PublishOutcome, retryable } from "./Transport.ts"
import { Transports } from "./Transports.ts"

/**
 * Rows per claim. Measured on 2 cores (PostgreSQL 15, no-op transport, one worker): 100 drains
 * ~17k rows/s, 500 ~25k/s, 1000 ~26k/s. 500 keeps most of that while a batch to a slow webhook
 * still fits in the publish timeout (80% of the 30 s lease).
 */
export const defaultBatchSize = 500

export interface RelayOptions {
  /** The routes this relay delivers; rows of other routes are left for other relays. */
  readonly routes: ReadonlyArray<Route>
  /** Lease owner recorded on claimed rows (process and worker). @default "relay" */
  readonly owner?: string
  /** Rows claimed at once (at least 1). @default 500 */
  readonly batchSize?: number
  /** How long a claim holds its rows. @default 30 seconds */
  readonly lease?: Duration.Input
  /**
   * Longest time one route's publish may take before its envelopes count as a retryable failure.
   * Transports that read `PublishDeadline` (the HTTP transport does) are told to finish a little
   * earlier, with their own outcomes, so what they delivered is recorded as delivered. It must leave
   * time to record the results while the lease still holds: otherwise every result would be refused
   * as stale, no attempt would ever be counted, and a receiver that never answers would be retried
   * forever. @default 80% of the lease
   */
  readonly publishTimeout?: Duration.Input
  /** @default defaultRetryPolicy (5 attempts) */
  readonly retryPolicy?: RetryPolicy
  /**
   * Longest wait between claims when idle and no notification arrives (a retry this relay recorded
   * ends the wait when it becomes due). @default 1 second
   */
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
  /** Rows the transport did not send (NotSent): back to pending, no attempt counted. */
  readonly released: number
  /** Results refused by the store because this worker's lease was no longer valid. */
  readonly stale: number
  /**
   * When each retry this batch recorded becomes due (Clock millis). `start` claims again then,
   * instead of at the next poll.
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

const envelopeOf = (claimed: Claimed): Envelope => ({
  outbox_id: claimed.entry.outbox_id,
  event: claimed.event,
  route: claimed.entry.route,
  topic: claimed.entry.topic,
  attempt: claimed.entry.attempts + 1
})

/**
 * Publishes one route's rows. A transport that breaks its contract (dies, returns the wrong number
 * of outcomes) or outlives `timeout` yields retryable outcomes, never a crash.
 */
const publishRoute = (transportName: string, envelopes: ReadonlyArray<Envelope>, timeout: Duration.Duration) =>
  Effect.gen(function* () {
    const transports = yield* Transports
    const transport = yield* transports.get(transportName)
    const start = yield* Clock.currentTimeMillis
    // The transport is told to be done a little earlier than the hard timeout, so that its own
    // outcomes (the deliveries among them) arrive before the timeout turns them all into retries.
    const millis = Duration.toMillis(timeout)
    const deadline = start + millis - Math.min(1000, Math.floor(millis / 10))
    const outcomes = yield* transport.publish(envelopes).pipe(
      Effect.provideService(PublishDeadline, deadline),
      Effect.timeoutOrElse({
        duration: timeout,
        orElse: () =>
          Effect.succeed(
            envelopes.map(() => retryable(`publish took longer than ${Duration.format(timeout)} (the lease allows)`))
          )
      })
    )
    const took = (yield* Clock.currentTimeMillis) - start
    yield* Metric.update(Metrics.forRoute(Metrics.publishDuration, envelopes[0]?.route ?? ""), took)
    if (outcomes.length !== envelopes.length) {
      return envelopes.map(() =>
        retryable(`transport ${transportName} returned ${outcomes.length} outcomes for ${envelopes.length} envelopes`)
      )
    }
    // Nothing sent at all (a publish timeout too short for even one request, a transport that never
    // starts): counted as attempts, so those rows still end in dead letters instead of being claimed
    // and released forever.
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

/** Turns outcomes into store writes; logs failures with the event's annotations (deliveries at debug). */
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
      const outbox_id = envelope.outbox_id
      const token = tokens.get(outbox_id)!
      if (outcome._tag === "Delivered") {
        completions.push(Completion.Delivered({ outbox_id, token }))
        continue
      }
      if (outcome._tag === "NotSent") {
        completions.push(Completion.Release({ outbox_id, token }))
        continue
      }
      const annotations = {
        event_id: envelope.event.event_id,
        trace_id: envelope.event.trace_id,
        attempt: envelope.attempt,
        route: envelope.route,
        topic: envelope.topic
      }
      if (outcome._tag === "Permanent") {
        const error = `permanent: ${outcome.error}`
        yield* Effect.logError("dead-lettered: permanent failure").pipe(Effect.annotateLogs({ ...annotations, error }))
        completions.push(Completion.Dead({ outbox_id, token, error }))
        continue
      }
      const decision = decide(policy, envelope.attempt, outcome.error, outcome.retryAfter, random.nextDoubleUnsafe())
      if (decision._tag === "GiveUp") {
        yield* Effect.logError("dead-lettered: retries exhausted").pipe(
          Effect.annotateLogs({ ...annotations, error: decision.reason })
        )
        completions.push(Completion.Dead({ outbox_id, token, error: decision.reason }))
        continue
      }
      yield* Effect.logWarning("delivery failed, will retry").pipe(
        Effect.annotateLogs({ ...annotations, error: outcome.error, retry_in_ms: decision.delayMs })
      )
      completions.push(
        Completion.Retry({
          outbox_id,
          token,
          error: outcome.error,
          delay_ms: decision.delayMs
        })
      )
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
    const store = yield* EventStore
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
      if (rejected.size > 0 && rejected.has(completion.outbox_id)) {
        const envelope = envelopes[i]!
        yield* Effect.logWarning("result refused: lease expired or taken over").pipe(
          Effect.annotateLogs({ event_id: envelope.event.event_id, attempt: envelope.attempt, route })
        )
      } else if (completion._tag === "Delivered") {
        counts.delivered++
        lags.push(now - DateTime.toEpochMillis(createdAt.get(completion.outbox_id)!))
      } else if (completion._tag === "Retry") {
        counts.retried++
        counts.retriesDueAt.push(recordedAt + completion.delay_ms)
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
  })

/**
 * Claims one batch and publishes it route by route (routes concurrently); each route's results are
 * recorded as soon as that route has them. If interrupted, routes still publishing release their
 * rows (so another worker can take them at once) while finished routes' results are still recorded:
 * a shutdown never drops, nor re-sends, a delivery that already happened. Options that cannot work
 * (see OptionError) make it die before claiming.
 */
export const runOnce = (options: RelayOptions): Effect.Effect<BatchReport, StoreError, EventStore | Transports> =>
  Effect.suspend(() => runBatch(settingsOf(options)))

/** RelayOptions with their defaults applied and durations parsed: once per `start`, not per batch. */
interface Settings {
  readonly owner: string
  readonly batchSize: number
  readonly lease: Duration.Duration
  readonly publishTimeout: Duration.Duration
  readonly policy: RetryPolicy
  readonly routes: ReadonlyMap<string, Route>
  readonly routeNames: ReadonlyArray<string>
}

const settingsOf = (options: RelayOptions): Settings => {
  const lease = durationOption("relay", "lease", options.lease ?? "30 seconds", { least: 1, infinite: false })
  const routes = new Map(options.routes.map((route) => [route.name, route] as const))
  return {
    owner: options.owner ?? "relay",
    batchSize: countOption("relay", "batchSize", options.batchSize, defaultBatchSize),
    lease,
    publishTimeout:
      options.publishTimeout === undefined
        ? Duration.millis(Math.max(1, Math.floor(Duration.toMillis(lease) * 0.8)))
        : durationOption("relay", "publishTimeout", options.publishTimeout, { least: 1, infinite: false }),
    policy: options.retryPolicy ?? defaultRetryPolicy,
    routes,
    routeNames: [...routes.keys()]
  }
}

const runBatch = (settings: Settings): Effect.Effect<BatchReport, StoreError, EventStore | Transports> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const { policy, lease, publishTimeout, routes } = settings
    const claimed = yield* store.claim({
      owner: settings.owner,
      limit: settings.batchSize,
      lease,
      routes: settings.routeNames
    })
    if (claimed.length === 0) return emptyReport
    const tokens = new Map(claimed.map((c) => [c.entry.outbox_id as string, c.entry.lease?.token ?? ""] as const))
    const createdAt = new Map(claimed.map((c) => [c.entry.outbox_id as string, c.entry.created_at] as const))
    const byRoute = new Map<string, Array<Envelope>>()
    for (const row of claimed) {
      const group = byRoute.get(row.entry.route) ?? []
      group.push(envelopeOf(row))
      byRoute.set(row.entry.route, group)
    }
    const publishAndRecord = ([route, envelopes]: readonly [string, ReadonlyArray<Envelope>]) =>
      // Per route: only the publish can be interrupted; once outcomes exist they are recorded.
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function* () {
          const outcomes = yield* restore(publishRoute(routes.get(route)!.transport, envelopes, publishTimeout)).pipe(
            Effect.onInterrupt(() =>
              Effect.suspend(() =>
                store.complete(
                  envelopes.map((e) => Completion.Release({ outbox_id: e.outbox_id, token: tokens.get(e.outbox_id)! }))
                )
              ).pipe(Effect.ignore)
            )
          )
          const now = yield* Clock.currentTimeMillis
          const completions = yield* settle(policy, envelopes, outcomes, tokens)
          return yield* record(route, envelopes, completions, createdAt, now, lease)
        })
      )
    // One route (the common case) runs in this fiber: no fiber forked for it.
    const perRoute =
      byRoute.size === 1
        ? [yield* publishAndRecord(byRoute.entries().next().value!)]
        : yield* Effect.forEach(byRoute, publishAndRecord, { concurrency: "unbounded" })
    const total = zeroCounts()
    total.claimed = claimed.length
    for (const counts of perRoute) {
      total.delivered += counts.delivered
      total.retried += counts.retried
      total.dead += counts.dead
      total.released += counts.released
      total.stale += counts.stale
      total.retriesDueAt.push(...counts.retriesDueAt)
    }
    return total
    // No stack trace on the span: it would be the same line of this file for every batch, and
    // capturing it is a new Error per batch (8.7 µs per event in place, in a CPU profile).
  }).pipe(Effect.withSpan("sluice.relay.batch", undefined, { captureStackTrace: false }))

/** A defect in one batch (a bug in a transport or store) must not end the loop: it becomes a StoreError. */
const batchOrError = (settings: Settings) =>
  runBatch(settings).pipe(
    Effect.catchDefect((defect) =>
      Effect.fail(new StoreError({ operation: "relay", reason: `defect: ${String(defect)}`, retryable: true }))
    ),
    Effect.result
  )

/** Options of `start`: the relay's, plus how long a graceful stop may take. */
export interface StartOptions extends RelayOptions {
  /** How long batches in flight may take to finish once stopping, before they are released. @default 10 seconds */
  readonly gracePeriod?: Duration.Input
}

/** Running relay workers. */
export interface RelayHandle {
  /**
   * Stops gracefully: claim nothing more, let the batches in flight finish (publish and record)
   * for up to the grace period, then interrupt what is left, which releases its rows. Idempotent;
   * `drained` says whether everything finished in time.
   */
  readonly stop: Effect.Effect<{ readonly drained: boolean }>
}

/**
 * Starts `workers` relay loops in the current scope; closing the scope stops them gracefully (as
 * `stop`). A loop claims again at once after a full batch, and otherwise waits for a store
 * notification, for the earliest retry it recorded to become due, or for `pollInterval`, whichever
 * comes first. Failures (and defects) of a batch are logged and retried after
 * `pollInterval`; a loop never fails. Options that cannot work (see OptionError) make it die at
 * once, before any worker starts.
 */
export const start = (
  options: StartOptions
): Effect.Effect<RelayHandle, never, EventStore | Transports | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const stopping = yield* Deferred.make<void>()
    let stopped = false
    const settings = settingsOf(options)
    const poll = durationOption("relay", "pollInterval", options.pollInterval ?? "1 second", {
      least: 1,
      infinite: false
    })
    const grace = durationOption("relay", "gracePeriod", options.gracePeriod ?? "10 seconds", {
      least: 0,
      infinite: true
    })
    const loop = (worker: number) =>
      Effect.gen(function* () {
        const workerSettings: Settings = { ...settings, owner: `${settings.owner}/${worker}` }
        // Retries this worker recorded: an idle wait ends when the next is due, so a retry goes out
        // after its backoff, not at the next poll.
        const dues = DueTimes.make()
        const untilNextDue = Effect.map(Clock.currentTimeMillis, (now) => {
          const next = dues.next()
          return next === undefined ? poll : Duration.min(poll, Duration.millis(Math.max(0, next - now)))
        })
        while (!stopped) {
          const claimedAt = yield* Clock.currentTimeMillis
          const result = yield* batchOrError(workerSettings)
          if (stopped) break
          if (result._tag === "Failure") {
            yield* Effect.logError("relay batch failed").pipe(
              Effect.annotateLogs({ error: result.failure.message, worker })
            )
            // A whole poll: with a failing database, waking at a due retry would retry at once.
            yield* Effect.raceFirst(Effect.sleep(poll), Deferred.await(stopping))
            continue
          }
          // The claim covered the retries due by then.
          dues.dropUntil(claimedAt)
          dues.add(result.success.retriesDueAt)
          if (result.success.claimed < settings.batchSize) {
            const maxWait = yield* untilNextDue
            const wait = store.waitForWork(maxWait).pipe(Effect.catch(() => Effect.sleep(maxWait)))
            yield* Effect.raceFirst(wait, Deferred.await(stopping))
          }
        }
      })
    const fibers = yield* Effect.forEach(
      Array.from({ length: countOption("relay", "workers", options.workers, 1) }, (_, i) => i),
      (i) => Effect.forkScoped(loop(i))
    )
    const outcome = yield* Deferred.make<{ readonly drained: boolean }>()
    const drain = Effect.gen(function* () {
      stopped = true
      yield* Deferred.succeed(stopping, undefined)
      const drained = yield* Fiber.awaitAll(fibers).pipe(
        Effect.as(true),
        Effect.timeoutOrElse({ duration: grace, orElse: () => Effect.succeed(false) })
      )
      if (!drained) {
        yield* Effect.logWarning("grace period over: releasing the batches still in flight").pipe(
          Effect.annotateLogs({ grace_ms: Duration.toMillis(grace) })
        )
        yield* Fiber.interruptAll(fibers)
      }
      yield* Deferred.succeed(outcome, { drained })
    })
    // The first caller drains; later callers (the scope's finalizer) wait for its outcome.
    const stop = Effect.suspend(() => (stopped ? Effect.void : drain)).pipe(Effect.andThen(Deferred.await(outcome)))
    yield* Effect.addFinalizer(() => stop)
    return { stop }
  })

/**
 * Runs the relay until interrupted: `start` in its own scope. Interrupting it stops gracefully
 * (in-flight batches finish within `gracePeriod`, then are released).
 */
export const run = (options: StartOptions): Effect.Effect<never, never, EventStore | Transports> =>
  Effect.scoped(Effect.andThen(start(options), Effect.never))
