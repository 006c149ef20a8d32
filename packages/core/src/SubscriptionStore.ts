/**
 * The SubscriptionStore port: what catch-up subscriptions and projections need from a store, beside
 * the EventStore (one adapter layer provides both, with the outbox's ports): a gap-free read of the
 * whole log, durable checkpoints, and a wake-up when events commit.
 *
 * Contract (every adapter runs the suite in `@sluice/core/testing`, SubscriptionContract.ts):
 * - `readAll(after, limit)` returns committed events strictly after `after`, in log order
 *   (LogPosition.compare), at most `limit`. It never returns an event of a transaction still open or
 *   rolled back, and never returns an event that sorts before one it has already returned to a
 *   reader resuming from it: an event that becomes visible later always sorts after every event
 *   handed out before. Resuming from the last event's `log_position` thus sees every committed event
 *   exactly once. (On PostgreSQL an event is held back while any transaction that began before it
 *   is still open, even an unrelated one: a long transaction delays readers, never makes them skip.)
 * - `saveCheckpoint` is a compare-and-set: it moves `name` from `from` (null: no checkpoint) to `to`,
 *   or fails with CheckpointConflictError when the stored checkpoint is not `from` (it was reset, or
 *   another instance moved it). It joins the caller's `EventStore.transaction`, so a projection's
 *   writes and its checkpoint commit or roll back together.
 * - `listen` registers a listener that is woken when events commit (in this process or, on
 *   PostgreSQL, another one); a commit that lands between its registration (or its previous wake-up)
 *   and its next wait ends that wait at once. Wake-ups may be lost across processes: listeners poll too.
 */
import { Context, Data, type DateTime, type Effect, type Option, type Scope } from "effect"
import type { StoredEvent, StoreError } from "./EventStore.ts"
import * as LogPosition from "./LogPosition.ts"
import type { Listener } from "./WorkSignal.ts"

/** An event as a subscription reads it: with its place in the log. */
export interface LoggedEvent extends StoredEvent {
  readonly log_position: LogPosition.LogPosition
}

/** A subscriber's durable progress: the last log position it has handled. */
export interface Checkpoint {
  readonly name: string
  readonly position: LogPosition.LogPosition
  readonly updated_at: DateTime.Utc
}

export interface CheckpointSave {
  readonly name: string
  /** The checkpoint the caller last loaded or saved; null when there was none. */
  readonly from: LogPosition.LogPosition | null
  readonly to: LogPosition.LogPosition
}

/** The stored checkpoint was not the one the save expected: reset, or moved by another instance. */
export class CheckpointConflictError extends Data.TaggedError("CheckpointConflictError")<{
  readonly name: string
  readonly expected: LogPosition.LogPosition | null
  readonly actual: LogPosition.LogPosition | null
}> {
  override get message() {
    const show = (p: LogPosition.LogPosition | null) => (p === null ? "none" : LogPosition.format(p))
    return `checkpoint ${this.name} is at ${show(this.actual)}, not at ${show(this.expected)} (reset, or moved by another instance)`
  }
}

/** The longest subscriber name a store accepts. */
export const maxNameLength = 200

/** Why `name` cannot name a subscriber, or undefined when it can. */
export const nameProblem = (name: string): string | undefined =>
  typeof name !== "string" || name.length === 0 || name.length > maxNameLength || name.trim() !== name
    ? `subscriber name ${JSON.stringify(name)} must be 1 to ${maxNameLength} characters without surrounding spaces`
    : undefined

/** The most events one `readAll` returns, whatever `limit` asks for. */
export const maxReadLimit = 10_000

export class SubscriptionStore extends Context.Service<
  SubscriptionStore,
  {
    /** Committed events after `after`, in log order, at most `limit` (clamped to 0..maxReadLimit). */
    readonly readAll: (
      after: LogPosition.LogPosition,
      limit: number
    ) => Effect.Effect<ReadonlyArray<LoggedEvent>, StoreError>
    readonly loadCheckpoint: (name: string) => Effect.Effect<Option.Option<Checkpoint>, StoreError>
    /** Compare-and-set (see the contract); joins the caller's transaction. */
    readonly saveCheckpoint: (save: CheckpointSave) => Effect.Effect<void, StoreError | CheckpointConflictError>
    /** Deletes the checkpoint (the subscriber starts over); returns whether there was one. Joins the caller's transaction. */
    readonly resetCheckpoint: (name: string) => Effect.Effect<boolean, StoreError>
    /** Every checkpoint, by name. */
    readonly listCheckpoints: Effect.Effect<ReadonlyArray<Checkpoint>, StoreError>
    /** The position of the last event `readAll` would return now (LogPosition.start when none): for lag. */
    readonly head: Effect.Effect<LogPosition.LogPosition, StoreError>
    /** A listener woken when events commit, until the scope closes. */
    readonly listen: Effect.Effect<Listener, never, Scope.Scope>
  }
>()("sluice/SubscriptionStore") {}
