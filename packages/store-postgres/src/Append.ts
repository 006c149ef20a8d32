/**
 * The append statement: raw payload, events and outbox rows written by ONE statement (three
 * data-modifying CTEs), whatever the batch size. One statement means one round trip and an
 * implicit transaction when the caller has none: the cheapest possible commit for single-event
 * ingest, and atomic by construction. Batches travel as one array parameter per column (`unnest`).
 * Its text is built once per store (FixedStatement.ts).
 */
import {
  type AppendBatch,
  type AppendResult,
  type EventId,
  type OutboxDraft,
  StorableText,
  StoreError
} from "@sluice/core"
import { DateTime, Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import * as FixedStatement from "./FixedStatement.ts"
import type { TableNames } from "./Tables.ts"

/** The batch after validation and de-duplication: what the statement is given. */
export interface Prepared {
  readonly unique: AppendBatch["events"]
  readonly repeated: ReadonlyArray<EventId>
  readonly outbox: ReadonlyArray<OutboxDraft>
}

/**
 * Validates a batch like the memory store does: every outbox row must name an event of the batch, and
 * no text may be one PostgreSQL cannot store.
 */
export const prepare = (batch: AppendBatch, operation = "append"): Effect.Effect<Prepared, StoreError> => {
  const seen = new Set<string>()
  const unique: Array<AppendBatch["events"][number]> = []
  const repeated: Array<EventId> = []
  for (const event of batch.events) {
    if (seen.has(event.event_id)) repeated.push(event.event_id)
    else {
      seen.add(event.event_id)
      unique.push(event)
    }
  }
  // PostgreSQL would refuse U+0000 (and a lone surrogate in jsonb) and silently replace a lone
  // surrogate in text: refused here, naming the field, as the memory store does.
  const unstorable = StorableText.batchProblem(batch)
  if (unstorable !== undefined) {
    return Effect.fail(new StoreError({ operation, reason: unstorable, retryable: false }))
  }
  const keys = new Set<string>()
  const outbox: Array<OutboxDraft> = []
  for (const draft of batch.outbox) {
    if (!seen.has(draft.event_id)) {
      return Effect.fail(
        new StoreError({
          operation,
          reason: `outbox row for route ${draft.route} names event ${draft.event_id}, which is not in the batch`,
          retryable: false
        })
      )
    }
    const key = `${draft.event_id}\u0000${draft.route}`
    if (keys.has(key)) continue
    keys.add(key)
    outbox.push(draft)
  }
  return Effect.succeed({ unique, repeated, outbox })
}

/** What the statement reads its parameters from. */
export interface Input {
  readonly raw: AppendBatch["raw"]
  readonly unique: AppendBatch["events"]
  readonly outbox: ReadonlyArray<OutboxDraft>
}

/** The two append statements of a schema: with a raw payload, and without (no CTE fed nulls). */
export interface Statements {
  readonly withRaw: FixedStatement.FixedStatement<Input>
  readonly withoutRaw: FixedStatement.FixedStatement<Input>
}

/** Declares a parameter where its placeholder goes (FixedStatement.make). */
export type Param<I> = (read: (input: I) => unknown) => string

/**
 * `input`: the batch's events as rows (`ord`: their place in the batch). `fresh`: those not stored
 * yet, numbered within their stream in batch order (`n`, from 1) and counted per stream (`k`).
 * "Not stored yet" is read from the statement's snapshot: an event a concurrent append stored after
 * it started looks fresh, and inserting it again fails on events_pkey (see `isConcurrentDuplicate`).
 */
export const freshEvents = <I extends Input>(t: TableNames, p: Param<I>): string => `
    input AS (
      SELECT * FROM unnest(${p((i) => i.unique.map((e) => e.event_id))}::uuid[], ${p((i) => i.unique.map((e) => e.event_type))}::text[],
                  ${p((i) => i.unique.map((e) => e.entity_type))}::text[], ${p((i) => i.unique.map((e) => e.entity_id))}::text[],
                  ${p((i) => i.unique.map((e) => e.trace_id))}::text[], ${p((i) => i.unique.map((e) => e.schema_version))}::int[],
                  ${p((i) => i.unique.map((e) => DateTime.formatIso(e.occurred_at)))}::timestamptz[],
                  ${p((i) => i.unique.map((e) => JSON.stringify(e.payload)))}::text[])
           WITH ORDINALITY AS e(event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, ord)
    ),
    fresh AS (
      SELECT i.*, row_number() OVER (PARTITION BY i.entity_type, i.entity_id ORDER BY i.ord) AS n,
             count(*) OVER (PARTITION BY i.entity_type, i.entity_id) AS k
      FROM input i
      WHERE NOT EXISTS (SELECT 1 FROM ${t.events} x WHERE x.event_id = i.event_id)
    )`

/**
 * `raw`: inserts the raw payload (when `when` holds). `rawId` is its id's placeholder, or NULL.
 */
export const rawInsert = <I extends Input>(t: TableNames, p: Param<I>, when = "true") => {
  const rawId = p((i) => i.raw!.raw_id)
  const cte = `
    raw AS (
      INSERT INTO ${t.raw} (raw_id, source, content_type, body, request, received_at, trace_id, content_hash, transform_error)
      SELECT ${rawId}::uuid, ${p((i) => i.raw!.source)}, ${p((i) => i.raw!.content_type)}, ${p((i) => i.raw!.body)},
             ${p((i) => JSON.stringify(i.raw!.request))}::text::jsonb, ${p((i) => DateTime.formatIso(i.raw!.received_at))}::timestamptz,
             ${p((i) => i.raw!.trace_id)}, ${p((i) => i.raw!.content_hash)}, ${p((i) => i.raw!.transform_error)}
      WHERE ${when}
      ON CONFLICT (raw_id) DO NOTHING
    ),`
  return { rawId, cte }
}

/**
 * `ev`: inserts the fresh events, each at its stream's revision from `st` (which holds each
 * stream's revision after this append: the k fresh events of a stream take the last k revisions).
 * `ob`: their outbox rows. ORDER BY ord: positions and outbox ids follow the batch's order.
 */
export const eventsAndOutbox = <I extends Input>(t: TableNames, p: Param<I>, rawId: string): string => `
    ev AS (
      INSERT INTO ${t.events} (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, raw_id, revision)
      SELECT f.event_id, f.event_type, f.entity_type, f.entity_id, f.trace_id, f.schema_version, f.occurred_at, f.payload::jsonb,
             ${rawId}::uuid, st.revision - f.k + f.n
      FROM fresh f JOIN st ON st.entity_type = f.entity_type AND st.entity_id = f.entity_id
      ORDER BY f.ord
      RETURNING event_id
    ),
    ob AS (
      INSERT INTO ${t.outbox} (event_id, route, topic, ordering_key)
      SELECT o.event_id, o.route, o.topic, o.ordering_key
      FROM unnest(${p((i) => i.outbox.map((o) => o.event_id))}::uuid[], ${p((i) => i.outbox.map((o) => o.route))}::text[],
                  ${p((i) => i.outbox.map((o) => o.topic))}::text[], ${p((i) => i.outbox.map((o) => o.ordering_key))}::text[])
           WITH ORDINALITY AS o(event_id, route, topic, ordering_key, ord)
      WHERE o.event_id IN (SELECT event_id FROM ev)
      ORDER BY o.ord
      RETURNING 1
    )`

// Each stream of the batch moves k revisions on: one locked row per stream, whose latest version
// the upsert reads even if it was committed after this statement's snapshot (see 0003_streams.sql).
// Rows are locked in (entity_type, entity_id) order, so two batches sharing streams cannot deadlock.
const statement = (t: TableNames, withRaw: boolean) =>
  FixedStatement.make<Input>((p) => {
    const raw = withRaw ? rawInsert(t, p) : { rawId: "NULL", cte: "" }
    return `
    WITH ${raw.cte} ${freshEvents(t, p)},
    st AS (
      INSERT INTO ${t.streams} AS s (entity_type, entity_id, revision)
      SELECT entity_type, entity_id, max(k) - 1 FROM fresh GROUP BY entity_type, entity_id ORDER BY entity_type, entity_id
      ON CONFLICT (entity_type, entity_id) DO UPDATE SET revision = s.revision + excluded.revision + 1
      RETURNING entity_type, entity_id, revision
    ), ${eventsAndOutbox(t, p, raw.rawId)}
    SELECT (SELECT array_agg(event_id::text) FROM ev) AS appended, (SELECT count(*) FROM ob)::int AS outbox_rows`
  })

/** Builds a schema's append statements (once, when the store starts). */
export const statements = (t: TableNames): Statements => ({
  withRaw: statement(t, true),
  withoutRaw: statement(t, false)
})

/**
 * True when `error` says that an event of the batch was stored by an append that committed while
 * this one ran (see `freshEvents`): the same statement run again counts it as a duplicate.
 */
export const isConcurrentDuplicate = (error: SqlError.SqlError): boolean =>
  error.reason._tag === "UniqueViolation" && /events_pkey/.test(`${error.reason.constraint} ${error.message}`)

/** Runs the append statement; `appended` keeps the batch's order. */
export const run = (
  sql: SqlClient.SqlClient,
  statements: Statements,
  batch: AppendBatch,
  prepared: Prepared
): Effect.Effect<AppendResult, SqlError.SqlError> => {
  const { unique, repeated, outbox } = prepared
  const input: Input = { raw: batch.raw, unique, outbox }
  const statement = FixedStatement.execute<{ appended: ReadonlyArray<string> | null; outbox_rows: number }, Input>(
    sql,
    batch.raw === null ? statements.withoutRaw : statements.withRaw,
    input
  )
  return Effect.map(statement, (rows) => {
    const fresh = new Set(rows[0]?.appended ?? [])
    const appended: Array<EventId> = []
    const duplicates: Array<EventId> = []
    for (const event of unique) (fresh.has(event.event_id) ? appended : duplicates).push(event.event_id)
    return { appended, duplicates: [...duplicates, ...repeated], outbox_rows: rows[0]?.outbox_rows ?? 0 }
  })
}
