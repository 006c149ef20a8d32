/**
 * The memory store's corrections (Correction.ts): what an event whose id is already stored is (a
 * duplicate, a correction or outdated), and each corrected key's latest version.
 */
import { DateTime } from "effect"
import type { Correction } from "../Correction.ts"
import { sameContent } from "../Correction.ts"
import type { Event, EventId, RawPayload } from "../Event.ts"
import type { AppendResult, StoredEvent } from "../EventStore.ts"
import { type UndoLog, write } from "./MemoryTransaction.ts"

export type Outcome =
  | { readonly _tag: "Fresh" }
  | { readonly _tag: "Duplicate" }
  | { readonly _tag: "Outdated" }
  | { readonly _tag: "Correction"; readonly supersedes: EventId }

/** One append's bookkeeping: what each event of its batch is, and what became of it. */
export interface Tally {
  /**
   * What the batch's `event` is; a duplicate or outdated one is counted at once (an id this batch
   * already stored is a duplicate).
   */
  readonly classify: (event: Event) => Outcome
  /** Records that the batch's `event` was stored as `entry` (a correction: as its key's latest version). */
  readonly stored: (undoLog: UndoLog | undefined, event: Event, entry: StoredEvent) => void
  /** The id the batch's event `id` was stored under by this append, if it was. */
  readonly storedId: (id: EventId) => EventId | undefined
  readonly result: (outboxRows: number) => AppendResult
}

export interface MemoryCorrections {
  /** A tally for a batch appended with `raw` (its raw payload, if any). */
  readonly tally: (raw: RawPayload | null) => Tally
}

export const make = (
  events: ReadonlyMap<EventId, StoredEvent>,
  raws: ReadonlyMap<string, RawPayload>
): MemoryCorrections => {
  // Only keys that were corrected: the others' latest version is the event stored under their id.
  const latest = new Map<EventId, StoredEvent>()
  const receivedAt = (stored: StoredEvent): number | undefined => {
    const raw = stored.raw_id === null ? undefined : raws.get(stored.raw_id)
    return raw === undefined ? undefined : DateTime.toEpochMillis(raw.received_at)
  }
  const classify = (event: Event, raw: RawPayload | null): Outcome => {
    const first = events.get(event.event_id)
    if (first === undefined) return { _tag: "Fresh" }
    const current = latest.get(event.event_id) ?? first
    if (sameContent(current.event, event)) return { _tag: "Duplicate" }
    const currentAt = receivedAt(current)
    if (raw !== null && currentAt !== undefined && currentAt > DateTime.toEpochMillis(raw.received_at))
      return { _tag: "Outdated" }
    return { _tag: "Correction", supersedes: current.event.event_id }
  }
  const record = (undoLog: UndoLog | undefined, of: EventId, stored: StoredEvent) => {
    const previous = latest.get(of)
    write(
      undoLog,
      () => void latest.set(of, stored),
      () => void (previous === undefined ? latest.delete(of) : latest.set(of, previous))
    )
  }
  return {
    tally: (raw) => {
      const appended: Array<EventId> = []
      const duplicates: Array<EventId> = []
      const corrected: Array<Correction> = []
      const outdated: Array<EventId> = []
      const storedIds = new Map<EventId, EventId>()
      return {
        classify: (event) => {
          const outcome = storedIds.has(event.event_id) ? ({ _tag: "Duplicate" } as const) : classify(event, raw)
          if (outcome._tag === "Duplicate") duplicates.push(event.event_id)
          if (outcome._tag === "Outdated") outdated.push(event.event_id)
          return outcome
        },
        stored: (undoLog, event, entry) => {
          storedIds.set(event.event_id, entry.event.event_id)
          const supersedes = entry.event.supersedes
          if (supersedes === undefined) appended.push(event.event_id)
          else {
            record(undoLog, event.event_id, entry)
            corrected.push({ of: event.event_id, eventId: entry.event.event_id, supersedes })
          }
        },
        storedId: (id) => storedIds.get(id),
        result: (outboxRows) => ({ appended, duplicates, corrected, outdated, outboxRows })
      }
    }
  }
}
