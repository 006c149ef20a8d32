/**
 * The memory store's lock and transactions. Operations are serialised by one lock, and a transaction
 * holds it for its whole duration: nothing a transaction wrote is visible to other fibers before it
 * commits (a relay cannot publish an event that is then rolled back). Inside, every write records
 * how to take itself back (MemoryTransaction.ts), and a failure (or interruption) replays that undo
 * log backwards; a nested transaction is a savepoint with a log of its own.
 */
import { Effect, Semaphore } from "effect"
import type { StoreError } from "../EventStore.ts"
import { CurrentTransaction, type UndoLog } from "./MemoryTransaction.ts"

export interface MemoryLock {
  /** Runs a store operation under the lock, unless the caller's transaction already holds it. */
  readonly guarded: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  /** Runs `self` in a transaction (a savepoint inside another one). */
  readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
}

export interface LockOptions {
  /** How many events the log holds: a transaction that made it grow appended events. */
  readonly logSize: () => number
  /** After an outermost transaction commits: whether it wrote anything, and whether it appended events. */
  readonly committed: (wrote: boolean, appended: boolean) => void
}

export const make = ({ logSize, committed }: LockOptions): MemoryLock => {
  const lock = Semaphore.makeUnsafe(1)

  const guarded = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.gen(function* () {
      return (yield* CurrentTransaction) === undefined ? yield* lock.withPermits(1)(self) : yield* self
    })

  const transaction = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> =>
    Effect.gen(function* () {
      const parent = yield* CurrentTransaction
      const undoLog: UndoLog = []
      const body = self.pipe(
        Effect.provideService(CurrentTransaction, undoLog),
        Effect.onExit((exit) =>
          Effect.sync(() => {
            if (exit._tag === "Failure") for (const undo of undoLog.reverse()) undo()
            else if (parent !== undefined) parent.push(...undoLog)
          })
        )
      )
      if (parent !== undefined) return yield* body
      let sizeBefore = 0
      const result = yield* lock.withPermits(1)(
        Effect.suspend(() => {
          sizeBefore = logSize()
          return body
        })
      )
      committed(undoLog.length > 0, logSize() !== sizeBefore)
      return result
    })

  return { guarded, transaction }
}
