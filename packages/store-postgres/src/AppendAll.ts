/**
 * `appendAll`: many batches, each with its raw payload (a fetch of broker messages), written by ONE
 * statement: the raw payloads by one `unnest` insert, the events, streams and outbox rows as
 * `append` writes them (Append.ts), each event carrying its batch's raw payload id and receipt time.
 * One statement instead of one per batch: per message, the round trip and the planning of a
 * data-modifying CTE statement were most of an ingest's cost.
 *
 * The batches must be independent for one statement to append them as `append` would one after
 * the other: no event id and no raw payload id in two of them (a later batch would see the earlier
 * one's event as a duplicate or a correction, which one snapshot cannot). `canCombine` says so;
 * otherwise the caller appends them one by one in a transaction.
 */
import type { AppendBatch, AppendResult, Correction, EventId, OutboxDraft, RawPayload } from "@sluice/core"
import { DateTime, Effect } from "effect"
import type { SqlError } from "effect/sql"
import {
  byStream,
  eventsAndOutbox,
  freshEvents,
  type Input,
  type OutcomeRow,
  outcomeColumns,
  type Prepared,
  streamsCte
} from "./Append.ts"
import type { Execute } from "./DirectStatement.ts"
import * as FixedStatement from "./FixedStatement.ts"
import type { TableNames } from "./Tables.ts"

/** The statement's input: the raw payloads, and every batch's events and outbox rows in order. */
export interface AllInput extends Input {
  readonly raws: ReadonlyArray<RawPayload>
  readonly rawIds: ReadonlyArray<string>
  readonly receivedAts: ReadonlyArray<string>
}

/**
 * Whether `batches` (each prepared) are independent: each has a raw payload, none shares a raw
 * payload id or an event id with another, and each is appended `once` or none is (`once`).
 */
export const independent = (
  batches: ReadonlyArray<AppendBatch>,
  prepared: ReadonlyArray<Prepared>,
  once: boolean
): boolean => {
  const raws = new Set<string>()
  const events = new Set<string>()
  for (const [i, batch] of batches.entries()) {
    if (batch.raw === null || (batch.once === true) !== once || raws.has(batch.raw.raw_id)) return false
    raws.add(batch.raw.raw_id)
    for (const event of prepared[i]!.unique) {
      if (events.has(event.event_id)) return false
      events.add(event.event_id)
    }
  }
  return true
}

/**
 * Whether one statement can append `batches` (each prepared) as `append` would in turn. A batch
 * appended `once` depends on whether its raw payload is stored: those go through AppendOnce.ts.
 */
export const canCombine = (batches: ReadonlyArray<AppendBatch>, prepared: ReadonlyArray<Prepared>): boolean =>
  independent(batches, prepared, false)

/** The input of a combined statement (this one, or AppendOnce's `all`) for independent `batches`. */
export const inputOf = (batches: ReadonlyArray<AppendBatch>, prepared: ReadonlyArray<Prepared>): AllInput => {
  const rawIds: Array<string> = []
  const receivedAts: Array<string> = []
  const unique: Array<AppendBatch["events"][number]> = []
  const outbox: Array<OutboxDraft> = []
  for (const [i, batch] of batches.entries()) {
    const raw = batch.raw!
    const at = DateTime.formatIso(raw.received_at)
    for (const event of prepared[i]!.unique) {
      unique.push(event)
      rawIds.push(raw.raw_id)
      receivedAts.push(at)
    }
    outbox.push(...prepared[i]!.outbox)
  }
  return { raw: null, raws: batches.map((b) => b.raw!), unique, outbox, rawIds, receivedAts }
}

/** The insert of every batch's raw payload, one `unnest` (a payload stored before is left as it is). */
export const rawsInsert = (t: TableNames, p: (read: (input: AllInput) => unknown) => string): string => {
  const raws = <A>(read: (raw: RawPayload) => A) => p((i) => i.raws.map(read))
  return `
      INSERT INTO ${t.raw} (raw_id, source, content_type, body, request, received_at, trace_id, content_hash, transform_error)
      SELECT r.raw_id, r.source, r.content_type, r.body, r.request::jsonb, r.received_at, r.trace_id, r.content_hash, r.transform_error
      FROM unnest(${raws((r) => r.raw_id)}::uuid[], ${raws((r) => r.source)}::text[], ${raws((r) => r.content_type)}::text[],
                  ${raws((r) => r.body)}::text[], ${raws((r) => JSON.stringify(r.request))}::text[],
                  ${raws((r) => DateTime.formatIso(r.received_at))}::timestamptz[], ${raws((r) => r.trace_id)}::text[],
                  ${raws((r) => r.content_hash)}::text[], ${raws((r) => r.transform_error)}::text[])
           AS r(raw_id, source, content_type, body, request, received_at, trace_id, content_hash, transform_error)
      ON CONFLICT (raw_id) DO NOTHING`
}

/** The statement of a schema (built once, when the store starts). */
export const statement = (t: TableNames): FixedStatement.FixedStatement<AllInput> =>
  FixedStatement.make<AllInput>((p) => {
    const fresh = freshEvents<AllInput>(t, p, "many", {
      perEvent: { rawId: (i) => i.rawIds, receivedAt: (i) => i.receivedAts }
    })
    return `
    WITH raw AS (${rawsInsert(t, p)}
    ), ${fresh},${streamsCte(t)}, ${eventsAndOutbox(t, p, "f.raw_id", byStream.many)}
    SELECT ${outcomeColumns}`
  })

/** Runs the statement for `batches` (each prepared, `canCombine`): one result per batch, in order. */
export const run = (
  execute: Execute,
  all: FixedStatement.FixedStatement<AllInput>,
  batches: ReadonlyArray<AppendBatch>,
  prepared: ReadonlyArray<Prepared>
): Effect.Effect<ReadonlyArray<AppendResult>, SqlError.SqlError> => {
  const input = inputOf(batches, prepared)
  return Effect.map(execute<OutcomeRow>(all.text, all.params(input)), (rows) => toResults(prepared, rows[0]))
}

/** Each batch's report from the statement's one `OutcomeRow` (as `Append.toResult` for one batch). */
export const toResults = (
  prepared: ReadonlyArray<Prepared>,
  row: OutcomeRow | undefined
): ReadonlyArray<AppendResult> => {
  // The usual case, every event fresh (as `Append.toResult`): appended ids are distinct ids of the
  // batches, so as many of them as the batches have are all of them.
  if (row !== undefined && row.corrected === null && row.outdated === null) {
    let events = 0
    for (const batch of prepared) events += batch.unique.length
    if ((row.appended?.length ?? 0) === events)
      return prepared.map((batch) => ({
        appended: batch.unique.map((e) => e.event_id),
        duplicates: [...batch.repeated],
        corrected: [],
        outdated: [],
        outboxRows: batch.outbox.length
      }))
  }
  const fresh = new Set(row?.appended ?? [])
  const outdated = new Set(row?.outdated ?? [])
  const corrections = (row?.corrected ?? []).map((text): Correction => {
    const [of, event_id, supersedes] = text.split(" ") as [EventId, EventId, EventId]
    return { of, eventId: event_id, supersedes }
  })
  const correctedOf = new Map<string, Correction>(corrections.map((c) => [c.of, c]))
  return prepared.map((batch) => {
    const appended: Array<EventId> = []
    const duplicates: Array<EventId> = []
    const corrected: Array<Correction> = []
    const late: Array<EventId> = []
    for (const { event_id } of batch.unique) {
      const correction = correctedOf.get(event_id)
      if (fresh.has(event_id)) appended.push(event_id)
      else if (correction !== undefined) corrected.push(correction)
      else if (outdated.has(event_id)) late.push(event_id)
      else duplicates.push(event_id)
    }
    // Outbox rows were written for the events stored (fresh, or a correction under its new id).
    const outboxRows = batch.outbox.filter((o) => fresh.has(o.event_id) || correctedOf.has(o.event_id)).length
    return { appended, duplicates: [...duplicates, ...batch.repeated], corrected, outdated: late, outboxRows }
  })
}
