/**
 * The relay: workers that claim batches with a lease, publish them outside any transaction and
 * record each result (RelayBatch.ts), waking on appends, on due retries or at a poll interval, and
 * stopping gracefully.
 *
 * A worker that dies leaves leases that expire, and the rows become claimable again: delivery is
 * at-least-once, and every envelope carries the event id so receivers can deduplicate.
 */
import { Clock, Deferred, Duration, Effect, Fiber, type Scope } from "effect"
import { StoreError } from "./EventStore.ts"
import { settingCount, settingDuration } from "./InvalidSetting.ts"
import { redeliveryAnnotations } from "./internal/DeliveryAnnotations.ts"
import * as DueTimes from "./internal/DueTimes.ts"
import * as Metrics from "./Metrics.ts"
import { OutboxQueue } from "./OutboxQueue.ts"
import { type BatchFailedError, type BatchReport, InterruptedPublishReason, runBatch } from "./RelayBatch.ts"
import { type RelayOptions, type Settings, settingsOf } from "./RelaySettings.ts"
import type { Transports } from "./Transports.ts"

export type { BatchReport } from "./RelayBatch.ts"
export { defaultBatchSize, type RelayOptions, settingsOf } from "./RelaySettings.ts"

/**
 * Claims one batch and publishes it route by route (routes concurrently); each route's results are
 * recorded as soon as that route has them. A `NotSent` outcome releases its row with no attempt
 * counted, unless nothing in that route's publish was sent: then each row counts a retryable attempt,
 * so a row that can never be sent still reaches the retry ceiling. If interrupted, a route whose publish is in flight
 * records a failed attempt for each of its rows (a request may have been sent), rows not yet handed
 * to a transport are released, and results already known are still recorded: a shutdown never
 * drops, nor re-sends, a delivery that already happened. Options that cannot work (see
 * InvalidSettingError) make it die before claiming.
 */
export const runOnce = (options: RelayOptions): Effect.Effect<BatchReport, StoreError, OutboxQueue | Transports> =>
  Effect.suspend(() => runBatch(settingsOf(options))).pipe(
    Effect.catchTag("BatchFailedError", (failed) => Effect.fail(failed.error))
  )

/**
 * Logs a failed batch. When results went unrecorded (the store failed or timed out while recording),
 * says which rows will be delivered again once their lease expires: a count, and up to 20 outbox
 * ids (what `sluice dlq show/replay` take) and event ids.
 */
const logFailure = (failure: StoreError | BatchFailedError, worker: number) =>
  failure._tag === "BatchFailedError"
    ? Effect.logError(
        "relay batch failed: results not recorded, these rows will be delivered again when their lease expires"
      ).pipe(
        Effect.annotateLogs({ error: failure.error.message, worker, ...redeliveryAnnotations(failure.unrecorded) })
      )
    : Effect.logError("relay batch failed").pipe(Effect.annotateLogs({ error: failure.message, worker }))

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
  /**
   * How long batches in flight may take to finish once stopping. After it, a publish still in
   * flight counts a failed attempt per row (retried later, or dead-lettered on its last attempt);
   * rows not yet handed to a transport are released. @default 10 seconds
   */
  readonly gracePeriod?: Duration.Input
}

/** Running relay workers. */
export interface RelayHandle {
  /**
   * Stops gracefully: claim nothing more, let the batches in flight finish (publish and record)
   * for up to the grace period, then interrupt what is left: a publish in flight is recorded as a
   * failed attempt of each of its rows (its requests may have reached the receiver, so the next
   * delivery carries the next attempt number), rows not yet handed to a transport are released.
   * Idempotent; `drained` says whether everything finished in time.
   */
  readonly stop: Effect.Effect<{ readonly drained: boolean }>
}

/**
 * Starts `workers` relay loops in the current scope; closing the scope stops them gracefully (as
 * `stop`). A loop claims again at once after a full batch, and otherwise waits for a store
 * notification, for the earliest retry it recorded to become due, or for `pollInterval`, whichever
 * comes first. Failures (and defects) of a batch are logged and retried after
 * `pollInterval`; a loop never fails. Options that cannot work (see InvalidSettingError) make it die at
 * once, before any worker starts.
 */
export const start = (
  options: StartOptions
): Effect.Effect<RelayHandle, never, OutboxQueue | Transports | Scope.Scope> =>
  Effect.gen(function* () {
    const store = yield* OutboxQueue
    let stopped = false
    const settings = settingsOf(options)
    const poll = settingDuration("relay", "pollInterval", options.pollInterval ?? "1 second", {
      least: 1,
      infinite: false
    })
    const grace = settingDuration("relay", "gracePeriod", options.gracePeriod ?? "10 seconds", {
      least: 0,
      infinite: true
    })
    const workers = settingCount("relay", "workers", options.workers, 1)
    yield* Metrics.initialiseRoutes(options.routes.map((route) => route.name))
    // Which workers only wait (idle, or after a failed batch): stopping interrupts those, as no
    // batch of theirs is in flight. Cheaper than racing every wait against a stop signal: two more
    // fibers on the way from each wake-up to the claim.
    const idle = Array.from({ length: workers }, () => false)
    const idly = (worker: number, wait: Effect.Effect<void>) =>
      Effect.suspend(() => {
        idle[worker] = true
        return wait
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            idle[worker] = false
          })
        )
      )
    const interruptedReason = `interrupted by shutdown after the grace period (${Duration.format(grace)})`
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
          const result = yield* batchOrError(workerSettings).pipe(
            Effect.provideService(InterruptedPublishReason, interruptedReason)
          )
          if (result._tag === "Failure") yield* logFailure(result.failure, worker)
          if (stopped) break
          if (result._tag === "Failure") {
            // A whole poll: with a failing database, waking at a due retry would retry at once.
            yield* idly(worker, Effect.sleep(poll))
            continue
          }
          // The claim covered the retries due by then.
          dues.dropUntil(claimedAt)
          dues.add(result.success.retriesDueAt)
          if (result.success.claimed < settings.batchSize) {
            const maxWait = yield* untilNextDue
            const wait = store.waitForWork(maxWait).pipe(Effect.catch(() => Effect.sleep(maxWait)))
            yield* idly(worker, wait)
          }
        }
      })
    const fibers = yield* Effect.forEach(
      Array.from({ length: workers }, (_, i) => i),
      (i) => Effect.forkScoped(loop(i))
    )
    const outcome = yield* Deferred.make<{ readonly drained: boolean }>()
    const drain = Effect.gen(function* () {
      stopped = true
      yield* Fiber.interruptAll(fibers.filter((_, i) => idle[i]))
      const drained = yield* Fiber.awaitAll(fibers).pipe(
        Effect.as(true),
        Effect.timeoutOrElse({ duration: grace, orElse: () => Effect.succeed(false) })
      )
      if (!drained) {
        yield* Effect.logWarning(
          "grace period over: interrupting the batches still in flight (a publish in flight counts a failed attempt)"
        ).pipe(Effect.annotateLogs({ grace_ms: Duration.toMillis(grace) }))
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
 * (in-flight batches finish within `gracePeriod`, then are interrupted, as `stop` says).
 */
export const run = (options: StartOptions): Effect.Effect<never, never, OutboxQueue | Transports> =>
  Effect.scoped(Effect.andThen(start(options), Effect.never))
