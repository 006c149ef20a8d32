/**
 * The in-memory SubscriptionStore: one of the memory store's services (`MemoryEventStore.makeStores`),
 * over the same log, lock and transactions. A transaction holds the store's lock until it commits,
 * so positions commit in order and a position alone orders the log: every event's transaction id
 * is 0. Reads take the lock too, so they never see a transaction's events before it commits.
 */
import { type DateTime, Effect, Option, type Scope } from "effect"
import type { StoredEvent } from "./EventStore.ts"
import { StoreError } from "./EventStore.ts"
import { CurrentTransaction, write } from "./internal/MemoryTransaction.ts"
import * as LogPosition from "./LogPosition.ts"
import {
  type Checkpoint,
  CheckpointConflictError,
  type CheckpointSave,
  type LoggedEvent,
  maxReadLimit,
  nameProblem,
  SubscriptionStore
} from "./SubscriptionStore.ts"
import type { Listener } from "./WorkSignal.ts"

/** What the memory EventStore shares with its subscription half. */
export interface Shared {
  /** The event log in position order (rolled-back events are removed from it). */
  readonly log: ReadonlyArray<StoredEvent>
  /** Runs an operation under the store's lock, unless the caller's transaction holds it. */
  readonly guarded: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly now: Effect.Effect<DateTime.Utc>
  readonly listen: Effect.Effect<Listener, never, Scope.Scope>
}

/** The memory store's positions commit in order: transaction id 0 throughout (LogPosition.ts). */
const logPositionOf = (stored: StoredEvent): LogPosition.LogPosition => ({
  transaction_id: 0,
  position: stored.position
})

const logged = (stored: StoredEvent): LoggedEvent => ({ ...stored, log_position: logPositionOf(stored) })

const checkName = (operation: string, name: string) => {
  const problem = nameProblem(name)
  return problem === undefined
    ? Effect.void
    : Effect.fail(new StoreError({ operation, reason: problem, retryable: false }))
}

export const make = (shared: Shared): SubscriptionStore["Service"] => {
  const { log, guarded } = shared
  const checkpoints = new Map<string, Checkpoint>()

  /** Index of the first event after `after` (log.length when none). */
  const firstAfter = (after: LogPosition.LogPosition) => {
    let low = 0
    let high = log.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (LogPosition.isAfter(logPositionOf(log[mid]!), after)) high = mid
      else low = mid + 1
    }
    return low
  }

  const readAll = (after: LogPosition.LogPosition, limit: number) =>
    guarded(
      Effect.sync(() => {
        const start = firstAfter(after)
        const count = Math.max(0, Math.min(maxReadLimit, Math.floor(limit)))
        return log.slice(start, start + count).map(logged) as ReadonlyArray<LoggedEvent>
      })
    )

  const loadCheckpoint = (name: string) =>
    Effect.andThen(
      checkName("loadCheckpoint", name),
      guarded(Effect.sync(() => Option.fromNullishOr(checkpoints.get(name))))
    )

  const saveCheckpoint = (save: CheckpointSave) =>
    Effect.andThen(
      checkName("saveCheckpoint", save.name),
      guarded(
        Effect.gen(function* () {
          const undoLog = yield* CurrentTransaction
          const previous = checkpoints.get(save.name)
          const actual = previous?.position ?? null
          const matches =
            actual === null || save.from === null ? actual === save.from : LogPosition.equals(actual, save.from)
          if (!matches) {
            return yield* new CheckpointConflictError({ name: save.name, expected: save.from, actual })
          }
          const next: Checkpoint = { name: save.name, position: save.to, updated_at: yield* shared.now }
          write(
            undoLog,
            () => void checkpoints.set(save.name, next),
            () =>
              previous === undefined ? void checkpoints.delete(save.name) : void checkpoints.set(save.name, previous)
          )
        })
      )
    )

  const resetCheckpoint = (name: string) =>
    Effect.andThen(
      checkName("resetCheckpoint", name),
      guarded(
        Effect.gen(function* () {
          const undoLog = yield* CurrentTransaction
          const previous = checkpoints.get(name)
          if (previous === undefined) return false
          write(
            undoLog,
            () => void checkpoints.delete(name),
            () => void checkpoints.set(name, previous)
          )
          return true
        })
      )
    )

  const listCheckpoints = guarded(
    Effect.sync(() => [...checkpoints.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)))
  )

  const head = guarded(
    Effect.sync(() => {
      const last = log.at(-1)
      return last === undefined ? LogPosition.start : logPositionOf(last)
    })
  )

  return SubscriptionStore.of({
    readAll,
    loadCheckpoint,
    saveCheckpoint,
    resetCheckpoint,
    listCheckpoints,
    head,
    listen: shared.listen
  })
}
