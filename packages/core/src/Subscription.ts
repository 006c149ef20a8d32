/**
 * Catch-up subscriptions: a named reader of the global log that starts from its durable checkpoint,
 * reads in batches, hands each batch to its handler and saves the checkpoint after it, then follows
 * new events as they commit (woken by the store, polling as a backstop).
 *
 * Delivery is at-least-once: after a crash the handler may see the last batch again (the checkpoint
 * moves after the handler returns). With `transactional: true` the handler and the checkpoint run in
 * one `EventStore.transaction`: a handler whose writes go to the same database (a projection's read
 * model) then applies every event exactly once. The checkpoint is saved with a compare-and-set, so a
 * reset (a rebuild) or a second instance running the same name is noticed: the subscription reloads
 * its checkpoint and goes on from there, and a transactional batch that lost the race is rolled back.
 *
 * The handler sees events at their latest version (Upcasters.ts). An event an upcaster fails on is
 * never skipped: the batch fails with UpcastError and, in `start`, is retried (and logged) every
 * `pollInterval` until the upcaster is fixed.
 */
import { Deferred, type Duration, Effect, Fiber, Metric, Option, Result, type Scope } from "effect"
import { EventStore, StoreError } from "./EventStore.ts"
import { InvalidSettingError, settingCount, settingDuration } from "./InvalidSetting.ts"
import * as LogPosition from "./LogPosition.ts"
import * as Metrics from "./Metrics.ts"
import {
  CheckpointConflictError,
  type LoggedEvent,
  maxReadLimit,
  nameProblem,
  SubscriptionStore
} from "./SubscriptionStore.ts"
import type { UpcastError } from "./Upcaster.ts"
import * as Upcasters from "./Upcasters.ts"

export interface SubscriptionOptions<E, R> {
  /** The subscriber's name: its checkpoint's key (1 to 200 characters). */
  readonly name: string
  /** Called with each batch, in log order (never empty). A failure retries the batch after `pollInterval`. */
  readonly handle: (events: ReadonlyArray<LoggedEvent>) => Effect.Effect<void, E, R>
  /** Most events per batch (at most 10,000). @default 500 */
  readonly batchSize?: number
  /**
   * The longest wait for new events before reading again (wake-ups can be lost, and events behind a
   * transaction that rolled back wake nobody); also the pause after a failed batch. @default 1 second
   */
  readonly pollInterval?: Duration.Input
  /** Run each batch's handler and checkpoint in one `EventStore.transaction` (projections). @default false */
  readonly transactional?: boolean
  /** How long the batch in flight may take to finish once stopping; then it is interrupted. @default 10 seconds */
  readonly gracePeriod?: Duration.Input
}

interface Settings<E, R> {
  readonly name: string
  readonly handle: (events: ReadonlyArray<LoggedEvent>) => Effect.Effect<void, E, R>
  readonly batchSize: number
  readonly poll: Duration.Duration
  readonly transactional: boolean
  readonly grace: Duration.Duration
}

/** Checks the options; options that cannot work die with an InvalidSettingError naming them. */
const settingsOf = <E, R>(options: SubscriptionOptions<E, R>): Settings<E, R> => {
  const owner = `subscription ${JSON.stringify(options.name)}`
  const problem = nameProblem(options.name)
  if (problem !== undefined) throw new InvalidSettingError({ owner: "subscription", setting: "name", reason: problem })
  const batchSize = settingCount(owner, "batchSize", options.batchSize, 500, maxReadLimit)
  return {
    name: options.name,
    handle: options.handle,
    batchSize,
    poll: settingDuration(owner, "pollInterval", options.pollInterval ?? "1 second", { least: 1, infinite: false }),
    transactional: options.transactional ?? false,
    grace: settingDuration(owner, "gracePeriod", options.gracePeriod ?? "10 seconds", { least: 0, infinite: true })
  }
}

/** Where the subscriber stands: its saved checkpoint (null: none yet). */
type Position = LogPosition.LogPosition | null

const loadPosition = (name: string) =>
  SubscriptionStore.use((store) => store.loadCheckpoint(name)).pipe(
    Effect.map(Option.match({ onNone: (): Position => null, onSome: (checkpoint) => checkpoint.position }))
  )

/** What a batch needs besides its checkpoint, found once per subscription. */
interface Services {
  readonly store: SubscriptionStore["Service"]
  readonly eventStore: EventStore["Service"]
  readonly upcasters: Upcasters.Registry
  /** The subscription's events counter. */
  readonly counted: Metric.Metric<number, Metric.CounterState<number>>
}

const services = (name: string) =>
  Effect.gen(function* (): Effect.fn.Return<Services, never, SubscriptionStore | EventStore> {
    return {
      store: yield* SubscriptionStore,
      eventStore: yield* EventStore,
      upcasters: yield* Upcasters.Upcasters,
      counted: Metrics.forSubscription(Metrics.subscriptionEvents, name)
    }
  })

/** What a batch did: how many events it handled, and the checkpoint it left. */
interface BatchResult {
  readonly handled: number
  readonly position: Position
}

/**
 * Reads one batch after `from`, handles it and saves the checkpoint. Composed without a generator:
 * it runs between every wake-up and its handler.
 */
const batch = <E, R>(
  settings: Settings<E, R>,
  found: Services,
  from: Position
): Effect.Effect<BatchResult, E | StoreError | CheckpointConflictError | UpcastError, R> =>
  Effect.flatMap(
    found.store.readAll(from ?? LogPosition.start, settings.batchSize),
    (read): Effect.Effect<BatchResult, E | StoreError | CheckpointConflictError | UpcastError, R> => {
      // The handler sees each event at its latest version; an upcaster that fails stops the batch here.
      const upcast = Upcasters.upcastAll(found.upcasters, read)
      if (Result.isFailure(upcast)) return Effect.fail(upcast.failure)
      const events = upcast.success
      const last = events.at(-1)
      if (last === undefined) return Effect.succeed({ handled: 0, position: from })
      const to: Position = last.log_position
      const work = Effect.andThen(
        settings.handle(events),
        found.store.saveCheckpoint({ name: settings.name, from, to })
      )
      return (settings.transactional ? found.eventStore.transaction(work) : work).pipe(
        Effect.andThen(Metric.update(found.counted, events.length)),
        Effect.as({ handled: events.length, position: to })
      )
    }
  ).pipe(
    // No stack trace on the span: a new Error per batch, between each wake-up and the handler.
    Effect.withSpan(
      "sluice.subscription.batch",
      { attributes: { "sluice.subscription": settings.name } },
      { captureStackTrace: false }
    )
  )

/** What `catchUp` did. */
export interface CatchUpReport {
  readonly events: number
  readonly batches: number
  /** The checkpoint it left (null when the log was empty and there was none). */
  readonly position: LogPosition.LogPosition | null
}

/**
 * Handles every event committed after the checkpoint, batch by batch, until a batch comes back
 * short; returns what it did. Fails with the first failure (the checkpoint stays at the last batch
 * that succeeded). For rebuilds, tests and benchmarks; `start` follows the log for good.
 */
export const catchUp = <E, R>(
  options: SubscriptionOptions<E, R>
): Effect.Effect<
  CatchUpReport,
  E | StoreError | CheckpointConflictError | UpcastError,
  SubscriptionStore | EventStore | R
> =>
  Effect.gen(function* () {
    const settings = settingsOf(options)
    const found = yield* services(settings.name)
    let position = yield* loadPosition(settings.name)
    let events = 0
    let batches = 0
    while (true) {
      const result = yield* batch(settings, found, position)
      position = result.position
      if (result.handled === 0) break
      events += result.handled
      batches++
      if (result.handled < settings.batchSize) break
    }
    return { events, batches, position }
  })

/** Running subscription. */
export interface SubscriptionHandle {
  /** Stops: no new batch; the one in flight may finish within the grace period. Idempotent. */
  readonly stop: Effect.Effect<void>
}

/**
 * Starts the subscription in the current scope (closing it stops the subscription as `stop` does)
 * and returns once it is listening: an event committed after `start` returns is never waited for
 * longer than a wake-up takes. Failed batches (and defects) are logged and retried after
 * `pollInterval`; the loop never fails. Options that cannot work die at once with an InvalidSettingError.
 */
export const start = <E, R>(
  options: SubscriptionOptions<E, R>
): Effect.Effect<SubscriptionHandle, never, SubscriptionStore | EventStore | Scope.Scope | R> =>
  Effect.gen(function* () {
    const settings = settingsOf(options)
    const store = yield* SubscriptionStore
    yield* Metrics.initialiseSubscription(settings.name)
    // Registered before the first read: a commit landing while a batch is read is kept for the next wait.
    const listener = yield* store.listen
    let stopped = false
    // True while the loop only waits (for events, or to retry): stopping then interrupts it. No
    // batch is in flight then, and it spares every wait a race against a stop signal (two more
    // fibers on the way from each wake-up to the read).
    let idle = false
    const idly = (wait: Effect.Effect<void>) =>
      Effect.suspend(() => {
        idle = true
        return wait
      }).pipe(
        Effect.ensuring(
          Effect.sync(() => {
            idle = false
          })
        )
      )
    const annotate = Effect.annotateLogs({ subscription: settings.name })
    const found = yield* services(settings.name)
    // undefined: load it (at start, after a conflict, and when idle: a reset must be noticed).
    let position: Position | undefined
    // Built once: it runs between every wake-up and its read.
    const step = Effect.suspend(() =>
      position === undefined
        ? Effect.flatMap(loadPosition(settings.name), (from) => {
            position = from
            return batch(settings, found, from)
          })
        : batch(settings, found, position)
    ).pipe(
      Effect.catchDefect((defect) =>
        Effect.fail(new StoreError({ operation: "subscription", reason: `defect: ${String(defect)}`, retryable: true }))
      ),
      Effect.result
    )
    const loop = Effect.gen(function* () {
      while (!stopped) {
        const result = yield* step
        if (result._tag === "Failure") {
          const failure: unknown = result.failure
          if (failure instanceof CheckpointConflictError) {
            yield* Effect.logWarning("subscription checkpoint moved (reset, or another instance): reloading it").pipe(
              Effect.annotateLogs({ error: failure.message }),
              annotate
            )
            position = undefined
            continue
          }
          yield* Metric.update(Metrics.forSubscription(Metrics.subscriptionBatchFailures, settings.name), 1)
          yield* Effect.logError("subscription batch failed; retrying it").pipe(
            Effect.annotateLogs({ error: failure instanceof Error ? failure.message : String(failure) }),
            annotate
          )
          if (!stopped) yield* idly(Effect.sleep(settings.poll))
          continue
        }
        const { handled } = result.success
        position = result.success.position
        // A full batch: read on at once. A short one: wait (a commit that landed since the read was
        // kept by the listener, so the wait returns at once).
        if (handled < settings.batchSize && !stopped) yield* idly(listener.wait(settings.poll))
        // Nothing new: reload before the next read, so a reset (rebuild) is noticed without a new event.
        if (handled === 0) position = undefined
      }
    })
    const fiber = yield* Effect.forkScoped(loop)
    const done = yield* Deferred.make<void>()
    const drain = Effect.gen(function* () {
      stopped = true
      if (idle) yield* Fiber.interrupt(fiber)
      const drained = yield* Fiber.await(fiber).pipe(
        Effect.as(true),
        Effect.timeoutOrElse({ duration: settings.grace, orElse: () => Effect.succeed(false) })
      )
      if (!drained) yield* Fiber.interrupt(fiber)
      yield* Deferred.succeed(done, undefined)
    })
    const stop = Effect.suspend(() => (stopped ? Effect.void : drain)).pipe(Effect.andThen(Deferred.await(done)))
    yield* Effect.addFinalizer(() => stop)
    return { stop }
  })

/** Runs the subscription until interrupted: `start` in its own scope. */
export const run = <E, R>(
  options: SubscriptionOptions<E, R>
): Effect.Effect<never, never, SubscriptionStore | EventStore | R> =>
  Effect.scoped(Effect.andThen(start(options), Effect.never))
