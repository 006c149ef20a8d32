/**
 * The memory store's outbox: its rows, and the OutboxQueue and OutboxAdmin services over them. The
 * EventStore half (MemoryEventStore.ts) adds rows as it appends; both share its lock, its undo log
 * (MemoryTransaction.ts) and its clock, so a row and its event commit or roll back together. The
 * queue's operations are MemoryOutboxQueue.ts, the admin's MemoryOutboxAdmin.ts.
 */
import type { DateTime, Effect } from "effect"
import type { Event, EventId } from "../Event.ts"
import type { OutboxDraft } from "../EventStore.ts"
import type * as Outbox from "../Outbox.ts"
import type { OutboxAdmin, PausedRoute } from "../OutboxAdmin.ts"
import type { OutboxQueue } from "../OutboxQueue.ts"
import * as WorkSignal from "../WorkSignal.ts"
import * as MemoryOutboxAdmin from "./MemoryOutboxAdmin.ts"
import * as MemoryOutboxQueue from "./MemoryOutboxQueue.ts"
import { type UndoLog, write } from "./MemoryTransaction.ts"

/** What the memory EventStore shares with its outbox. */
export interface Shared {
  /** The stored event of an id (claims hand it out; a replay filters on its type). */
  readonly eventOf: (id: EventId) => Event | undefined
  /** Runs an operation under the store's lock, unless the caller's transaction holds it. */
  readonly guarded: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  readonly now: Effect.Effect<DateTime.Utc>
}

export interface MemoryOutbox {
  /**
   * Creates the rows of `drafts` whose event this append stored (`fresh`), one per event and route,
   * recording their undo in `undoLog`; returns how many.
   */
  readonly add: (
    undoLog: UndoLog | undefined,
    drafts: ReadonlyArray<OutboxDraft>,
    fresh: ReadonlySet<EventId>,
    at: DateTime.Utc
  ) => number
  /** Wakes relays waiting for work (or keeps the wake-up for the next one). */
  readonly notify: () => void
  /** Stops the timer a relay's last woken wait left (WorkSignal.close). */
  readonly close: Effect.Effect<void>
  /** The events that have a pending outbox row (raw payload retention keeps their raw payloads). */
  readonly pendingEvents: () => ReadonlySet<EventId>
  readonly queue: OutboxQueue["Service"]
  readonly admin: OutboxAdmin["Service"]
}

/** The outbox's rows and what each operation on them needs (MemoryOutboxQueue.ts, MemoryOutboxAdmin.ts). */
export interface Rows extends Shared {
  readonly outbox: Map<number, Outbox.OutboxEntry>
  /** The ids of the pending rows, kept in step with `outbox` by `setEntry`. */
  readonly pending: Set<number>
  readonly paused: Map<string, PausedRoute>
  /** Stores a row (new or changed), recording its undo in `undoLog`. */
  readonly setEntry: (undoLog: UndoLog | undefined, next: Outbox.OutboxEntry) => void
  readonly notify: () => void
  readonly work: WorkSignal.WorkSignal
}

const toId = (n: number) => String(n) as Outbox.OutboxId

export const make = (shared: Shared): MemoryOutbox => {
  const outbox = new Map<number, Outbox.OutboxEntry>()
  const outboxKeys = new Set<string>()
  const pending = new Set<number>()
  const paused = new Map<string, PausedRoute>()
  let nextOutboxId = 1
  const work = WorkSignal.make()
  const notify = work.signal

  const setEntry = (undoLog: UndoLog | undefined, next: Outbox.OutboxEntry) => {
    const id = Number(next.outbox_id)
    const previous = outbox.get(id)
    write(
      undoLog,
      () => {
        outbox.set(id, next)
        if (next.status === "pending") pending.add(id)
        else pending.delete(id)
      },
      () => {
        if (previous === undefined) {
          outbox.delete(id)
          pending.delete(id)
        } else {
          outbox.set(id, previous)
          if (previous.status === "pending") pending.add(id)
          else pending.delete(id)
        }
      }
    )
  }

  const add: MemoryOutbox["add"] = (undoLog, drafts, fresh, at) => {
    let rows = 0
    for (const draft of drafts) {
      const key = `${draft.event_id}\u0000${draft.route}`
      if (!fresh.has(draft.event_id) || outboxKeys.has(key)) continue
      const id = nextOutboxId++
      write(
        undoLog,
        () => void outboxKeys.add(key),
        () => void outboxKeys.delete(key)
      )
      setEntry(undoLog, {
        outbox_id: toId(id),
        event_id: draft.event_id,
        route: draft.route,
        topic: draft.topic,
        status: "pending",
        attempts: 0,
        next_attempt_at: at,
        lease: null,
        last_error: null,
        ordering_key: draft.ordering_key,
        replays: 0,
        created_at: at,
        delivered_at: null
      })
      rows++
    }
    return rows
  }

  const pendingEvents = () => new Set([...pending].map((id) => outbox.get(id)!.event_id))

  const rows: Rows = { ...shared, outbox, pending, paused, setEntry, notify, work }
  return {
    add,
    notify,
    close: work.close,
    pendingEvents,
    queue: MemoryOutboxQueue.make(rows),
    admin: MemoryOutboxAdmin.make(rows)
  }
}
