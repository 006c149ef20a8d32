/**
 * The memory store's transactions, shared by its EventStore, outbox and SubscriptionStore: the undo
 * log of the transaction in progress (a fiber reference), and how a write records its undo in it.
 */
import { Context } from "effect"

export type UndoLog = Array<() => void>

/** The undo log of the transaction the current fiber runs in, if any. */
export const CurrentTransaction = Context.Reference<UndoLog | undefined>("sluice/MemoryEventStore/Transaction", {
  defaultValue: () => undefined
})

/** Applies `apply`, recording `undo` when inside a transaction. */
export const write = (undoLog: UndoLog | undefined, apply: () => void, undo: () => void): void => {
  apply()
  undoLog?.push(undo)
}
