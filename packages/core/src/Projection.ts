/**
 * Async projections: a read model kept up to date from the log by a transactional subscription.
 * Each batch's `apply` calls and the checkpoint commit in one `EventStore.transaction`, so a read
 * model in the same database as the store applies every event exactly once, crash or not.
 *
 * A rebuild empties the read model (`reset`) and deletes the checkpoint in one transaction; the
 * projection then replays the whole log. A running instance notices on its next batch or idle poll
 * (its checkpoint save fails the compare-and-set, which rolls its batch back) and starts over.
 */
import { type Duration, Effect, type Scope } from "effect"
import { EventStore, type StoreError } from "./EventStore.ts"
import * as Subscription from "./Subscription.ts"
import { type CheckpointConflictError, type LoggedEvent, SubscriptionStore } from "./SubscriptionStore.ts"
import type { UpcastError } from "./Upcaster.ts"

export interface Projection<E, R> {
  /** The projection's name: its checkpoint's key. */
  readonly name: string
  /** The event types it applies; the others only move its checkpoint. @default every type */
  readonly eventTypes?: ReadonlyArray<string>
  /** Applies one event, at its latest version (Upcasters.ts), to the read model (runs in the batch's transaction). */
  readonly apply: (event: LoggedEvent) => Effect.Effect<void, E, R>
  /**
   * Empties the read model, for a rebuild (runs in the rebuild's transaction). Without it a rebuild
   * replays every event over the rows already there: right only for an idempotent `apply`.
   * @default nothing
   */
  readonly reset?: Effect.Effect<void, E, R>
}

/** A projection, its types inferred. */
export const make = <E, R>(projection: Projection<E, R>): Projection<E, R> => projection

/** How the projection's subscription runs (see `Subscription.SubscriptionOptions`). */
export interface ProjectionOptions {
  readonly batchSize?: number
  readonly pollInterval?: Duration.Input
  readonly gracePeriod?: Duration.Input
}

/** The transactional subscription that runs `projection`. */
export const subscription = <E, R>(
  projection: Projection<E, R>,
  options: ProjectionOptions = {}
): Subscription.SubscriptionOptions<E, R> => {
  const types = projection.eventTypes === undefined ? undefined : new Set(projection.eventTypes)
  return {
    ...options,
    name: projection.name,
    transactional: true,
    handle: (events) =>
      Effect.forEach(
        types === undefined ? events : events.filter((e) => types.has(e.event.event_type)),
        projection.apply,
        { discard: true }
      )
  }
}

/** Brings the read model up to date with the log, then returns (see `Subscription.catchUp`). */
export const catchUp = <E, R>(
  projection: Projection<E, R>,
  options?: ProjectionOptions
): Effect.Effect<
  Subscription.CatchUpReport,
  E | StoreError | CheckpointConflictError | UpcastError,
  SubscriptionStore | EventStore | R
> => Subscription.catchUp(subscription(projection, options))

/** Keeps the read model up to date in the current scope (see `Subscription.start`). */
export const start = <E, R>(
  projection: Projection<E, R>,
  options?: ProjectionOptions
): Effect.Effect<Subscription.SubscriptionHandle, never, SubscriptionStore | EventStore | Scope.Scope | R> =>
  Subscription.start(subscription(projection, options))

/**
 * Empties the read model and deletes the checkpoint, in one transaction: the next `catchUp`, or the
 * running projection, rebuilds it from the start of the log.
 */
export const rebuild = <E, R>(
  projection: Projection<E, R>
): Effect.Effect<void, E | StoreError, SubscriptionStore | EventStore | R> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const subscriptions = yield* SubscriptionStore
    yield* store.transaction(
      Effect.andThen(projection.reset ?? Effect.void, subscriptions.resetCheckpoint(projection.name))
    )
  })
