/**
 * The memory store's appends, run under its lock (MemoryLock.ts): a batch's raw payload, events
 * (duplicates skipped, corrections stored under a new id) and outbox rows, each write recorded in the
 * transaction's undo log; and the append to a stream, which first checks the expected revision.
 * Outside a transaction an append wakes relays and subscriptions itself; inside one, the commit does.
 */
import { type DateTime, Effect } from "effect"
import {
  type AppendBatch,
  type AppendResult,
  appendBatchProblem,
  appendToStreamProblem,
  redeliveredResult,
  type StoredEvent,
  StoreError
} from "../EventStore.ts"
import { nextEventId } from "../Ids.ts"
import {
  type ExpectedRevision,
  meetsExpectedRevision,
  type StreamAppendResult,
  type StreamName,
  WrongExpectedRevisionError
} from "../Stream.ts"
import type { MemoryContents } from "./MemoryContents.ts"
import type { MemoryOutbox } from "./MemoryOutbox.ts"
import { CurrentTransaction, write } from "./MemoryTransaction.ts"

/** What the appends write to and wake. */
export interface Shared {
  readonly contents: MemoryContents
  readonly outbox: Pick<MemoryOutbox, "add" | "notify">
  /** Wakes subscriptions: events were appended (and committed). */
  readonly committed: () => void
  readonly now: Effect.Effect<DateTime.Utc>
}

export interface MemoryAppend {
  /** `append`, without taking the lock. */
  readonly append: (batch: AppendBatch) => Effect.Effect<AppendResult, StoreError>
  /** `appendToStream`, without taking the lock. */
  readonly appendToStream: (
    stream: StreamName,
    batch: AppendBatch,
    expected: ExpectedRevision
  ) => Effect.Effect<StreamAppendResult, StoreError | WrongExpectedRevisionError>
}

export const make = ({ contents, outbox, committed, now }: Shared): MemoryAppend => {
  const { raws, events, log, streams, corrections } = contents

  /** Appends a batch already checked (`appendBatchProblem`). */
  const appendChecked = (batch: AppendBatch) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      const raw = batch.raw
      if (batch.once === true && raw !== null && raws.has(raw.raw_id)) return redeliveredResult
      if (raw !== null && !raws.has(raw.raw_id)) {
        write(
          undoLog,
          () => void raws.set(raw.raw_id, raw),
          () => void raws.delete(raw.raw_id)
        )
      }
      const tally = corrections.tally(raw)
      for (const event of batch.events) {
        const outcome = tally.classify(event)
        if (outcome._tag === "Duplicate" || outcome._tag === "Outdated") continue
        const event_id = outcome._tag === "Fresh" ? event.event_id : yield* nextEventId
        const entry: StoredEvent = {
          position: contents.takePosition(),
          revision: streams.nextRevision(event),
          raw_id: raw?.raw_id ?? null,
          recorded_at: at,
          event: outcome._tag === "Fresh" ? event : { ...event, event_id, supersedes: outcome.supersedes }
        }
        write(
          undoLog,
          () => {
            events.set(event_id, entry)
            log.push(entry)
            streams.add(entry)
          },
          () => {
            events.delete(event_id)
            log.splice(log.indexOf(entry), 1)
            // Undone newest first: this is its stream's last event.
            streams.removeLast(entry)
          }
        )
        tally.stored(undoLog, event, entry)
      }
      // A correction's outbox rows go to the id it was stored under; a duplicate's to none.
      const drafts = batch.outbox.flatMap((draft) => {
        const event_id = tally.storedId(draft.event_id)
        return event_id === undefined ? [] : [{ ...draft, event_id }]
      })
      const rows = outbox.add(undoLog, drafts, new Set(drafts.map((draft) => draft.event_id)), at)
      if (undoLog === undefined && rows > 0) outbox.notify()
      const result = tally.result(rows)
      if (undoLog === undefined && result.appended.length + result.corrected.length > 0) committed()
      return result
    })

  const append = (batch: AppendBatch) =>
    Effect.suspend(() => {
      const problem = appendBatchProblem(batch)
      return problem === undefined
        ? appendChecked(batch)
        : Effect.fail(new StoreError({ operation: "append", reason: problem, retryable: false }))
    })

  const appendToStream = (stream: StreamName, batch: AppendBatch, expected: ExpectedRevision) =>
    Effect.gen(function* () {
      const problem = appendBatchProblem(batch) ?? appendToStreamProblem(stream, batch, expected)
      if (problem !== undefined)
        return yield* new StoreError({ operation: "appendToStream", reason: problem, retryable: false })
      const actual = streams.revisionOf(stream)
      if (!meetsExpectedRevision(expected, actual))
        return yield* new WrongExpectedRevisionError({ stream, expected, actual })
      const result = yield* appendChecked(batch)
      return { ...result, nextExpectedRevision: streams.revisionOf(stream) }
    })

  return { append, appendToStream }
}
