/**
 * The append statement: raw payload, events, their streams' revisions and outbox rows written by
 * ONE statement (data-modifying CTEs), whatever the batch size. One statement means one round trip and an
 * implicit transaction when the caller has none: the cheapest possible commit for single-event
 * ingest, and atomic by construction. Batches travel as one array parameter per column (`unnest`).
 * Its text is built once per store (FixedStatement.ts).
 */
import {
  type AppendBatch,
  type AppendResult,
  appendBatchProblem,
  type Correction,
  type EventId,
  type OutboxDraft,
  StoreError
} from "@sluice/core"
import { DateTime, Effect } from "effect"
import type { SqlError } from "effect/sql"
import type { Execute } from "./DirectStatement.ts"
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
  const prepared = prepareBatch(batch, operation)
  return prepared instanceof StoreError ? Effect.fail(prepared) : Effect.succeed(prepared)
}

/** `prepare` for each of `batches` (appendAll's fetch of broker messages): one loop, no Effect each. */
export const prepareAll = (batches: ReadonlyArray<AppendBatch>): Effect.Effect<ReadonlyArray<Prepared>, StoreError> => {
  const all: Array<Prepared> = []
  for (const batch of batches) {
    const prepared = prepareBatch(batch, "append")
    if (prepared instanceof StoreError) return Effect.fail(prepared)
    all.push(prepared)
  }
  return Effect.succeed(all)
}

const prepareBatch = (batch: AppendBatch, operation: string): Prepared | StoreError => {
  // PostgreSQL would refuse U+0000 (and a lone surrogate in jsonb) and silently replace a lone
  // surrogate in text: refused here, naming the field, as the memory store does.
  const problem = appendBatchProblem(batch)
  if (problem !== undefined) return new StoreError({ operation, reason: problem, retryable: false })
  // One event and at most one outbox row (a command's usual append): nothing to de-duplicate.
  if (batch.events.length <= 1 && batch.outbox.length <= 1)
    return { unique: batch.events, repeated: [], outbox: batch.outbox }
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
  const keys = new Set<string>()
  const outbox: Array<OutboxDraft> = []
  for (const draft of batch.outbox) {
    const key = `${draft.event_id}\u0000${draft.route}`
    if (keys.has(key)) continue
    keys.add(key)
    outbox.push(draft)
  }
  return { unique, repeated, outbox }
}

/** What the statement reads its parameters from. */
export interface Input {
  readonly raw: AppendBatch["raw"]
  readonly unique: AppendBatch["events"]
  readonly outbox: ReadonlyArray<OutboxDraft>
}

/**
 * How many events a statement is written for. A prepared statement is planned with its parameters
 * (a custom plan) until PostgreSQL finds its generic plan no dearer; for arrays it assumes 10
 * elements, so with one element each event's index probe (`fresh`) made the generic plan look ten
 * times dearer and every 1-event append was planned anew: 0.9 ms a statement instead of 0.4
 * (measured, synchronous_commit off). `one` reads element [1] of each array: the same estimate
 * either way, and the generic plan is kept.
 */
export type Shape = "one" | "many"

/** A statement per case: with a raw payload or without (no CTE fed nulls), for one event or many. */
export type Variants<I> = Readonly<
  Record<"withRaw" | "withoutRaw", Readonly<Record<Shape, FixedStatement.FixedStatement<I>>>>
>

/** Builds every variant (once, when the store starts). */
export const variants = <I>(
  build: (withRaw: boolean, shape: Shape) => FixedStatement.FixedStatement<I>
): Variants<I> => ({
  withRaw: { one: build(true, "one"), many: build(true, "many") },
  withoutRaw: { one: build(false, "one"), many: build(false, "many") }
})

/** The variant for `input`. */
export const variantFor = <I>(set: Variants<I>, input: Input): FixedStatement.FixedStatement<I> =>
  set[input.raw === null ? "withoutRaw" : "withRaw"][input.unique.length === 1 ? "one" : "many"]

/** The append statements of a schema. */
export type Statements = Variants<Input>

/** Declares a parameter where its placeholder goes (FixedStatement.make). */
export type Param<I> = (read: (input: I) => unknown) => string

/**
 * A fresh UUIDv7 (RFC 9562 §5.7), as `Ids.nextEventId` makes on the memory store: a random UUIDv4
 * whose first 48 bits become the Unix milliseconds and whose version nibble becomes 7 (bits 52 and
 * 53, counted from each byte's right). PostgreSQL has `uuidv7()` only from version 18. Evaluated for
 * corrections only (a CASE branch), so ingesting fresh events costs nothing more.
 */
const uuidV7 = `encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing
  substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3) FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid`

/**
 * For a statement over many raw payloads (AppendAll.ts): each event's raw payload id and receipt
 * time (ISO), as arrays in the events' order; they become the `raw_id` and `received_at` columns.
 */
export interface PerEventRaw<I> {
  readonly rawId: (input: I) => ReadonlyArray<string>
  readonly receivedAt: (input: I) => ReadonlyArray<string>
}

/**
 * `probe`: each event of the batch with its `outcome` (Correction.ts): `fresh` when its id is not
 * stored; else compared with its key's latest version (`latest_id`: the newest correction whose
 * `key_id` is the id, else the event stored under it): `duplicate` (same content), `outdated`
 * (other content, but that version's raw payload was received after this batch's) or `corrected`.
 * `fresh`: the events to insert, a correction under a new id with `supersedes` and `key_id`, with
 * `ord` (their place in the batch), `n` (their place among their stream's events to insert, from
 * 1) and `k` (how many their stream has).
 * "Not stored yet" is read from the statement's snapshot: an event a concurrent append stored after
 * it started looks fresh, and inserting it again fails on events_pkey (or, for a correction, on
 * events_supersedes: see `isConcurrentDuplicate`). The probes are LATERAL subqueries, index lookups
 * per event whatever the plan (an anti-join may hash a sequential scan of the whole log); the
 * latest-correction probe runs only for an id found stored, so a fresh event costs one lookup.
 */
export const freshEvents = <I extends Input>(
  t: TableNames,
  p: Param<I>,
  shape: Shape,
  options: { readonly perEvent?: PerEventRaw<I>; readonly gate?: string } = {}
): string => {
  const { perEvent, gate = "true" } = options
  const columns = [
    `${p((i) => i.unique.map((e) => e.event_id))}::uuid[]`,
    `${p((i) => i.unique.map((e) => e.event_type))}::text[]`,
    `${p((i) => i.unique.map((e) => e.entity_type))}::text[]`,
    `${p((i) => i.unique.map((e) => e.entity_id))}::text[]`,
    `${p((i) => i.unique.map((e) => e.trace_id))}::text[]`,
    `${p((i) => i.unique.map((e) => e.schema_version))}::int[]`,
    `${p((i) => i.unique.map((e) => DateTime.formatIso(e.occurred_at)))}::timestamptz[]`,
    `${p((i) => i.unique.map((e) => JSON.stringify(e.payload)))}::text[]`
  ]
  const names = [
    "event_id",
    "event_type",
    "entity_type",
    "entity_id",
    "trace_id",
    "schema_version",
    "occurred_at",
    "payload"
  ]
  if (perEvent !== undefined) {
    columns.push(`${p(perEvent.rawId)}::uuid[]`, `${p(perEvent.receivedAt)}::timestamptz[]`)
    names.push("raw_id", "received_at")
  }
  const receivedAt =
    perEvent !== undefined
      ? "i.received_at"
      : `${p((i) => (i.raw === null ? null : DateTime.formatIso(i.raw.received_at)))}::timestamptz`
  const same = (a: string) =>
    `(${a}.event_type = i.event_type AND ${a}.entity_type = i.entity_type AND ${a}.entity_id = i.entity_id
      AND ${a}.schema_version = i.schema_version AND ${a}.occurred_at = i.occurred_at AND ${a}.payload = i.payload::jsonb)`
  const latest = (column: string) => `CASE WHEN c.event_id IS NULL THEN o.${column} ELSE c.${column} END`
  const corrected = (value: string, otherwise: string) =>
    `CASE WHEN p.outcome = 'corrected' THEN ${value} ELSE ${otherwise} END`
  const insert = `${corrected(uuidV7, "p.event_id")} AS event_id, ${names
    .slice(1)
    .map((n) => `p.${n}`)
    .join(", ")},
      ${corrected("p.latest_id", "NULL::uuid")} AS supersedes, ${corrected("p.event_id", "NULL::uuid")} AS key_id, p.ord`
  return `
    input AS (
      ${
        shape === "one"
          ? `SELECT ${columns.map((c, i) => `(${c})[1] AS ${names[i]}`).join(", ")}, 1::bigint AS ord WHERE ${gate}`
          : `SELECT * FROM unnest(${columns.join(", ")}) WITH ORDINALITY AS e(${names.join(", ")}, ord) WHERE ${gate}`
      }
    ),
    probe AS (
      SELECT i.*, ${latest("event_id")} AS latest_id,
             CASE WHEN o.event_id IS NULL THEN 'fresh'
                  WHEN ${latest("same")} THEN 'duplicate'
                  WHEN (SELECT r.received_at FROM ${t.raw} r WHERE r.raw_id = ${latest("raw_id")}) > ${receivedAt} THEN 'outdated'
                  ELSE 'corrected' END AS outcome
      FROM input i
      LEFT JOIN LATERAL (SELECT x.event_id, x.raw_id, ${same("x")} AS same FROM ${t.events} x WHERE x.event_id = i.event_id) o ON true
      LEFT JOIN LATERAL (
        SELECT y.event_id, y.raw_id, ${same("y")} AS same FROM ${t.events} y
        WHERE o.event_id IS NOT NULL AND y.key_id = i.event_id ORDER BY y.position DESC LIMIT 1
      ) c ON true
    ),
    fresh AS (
      ${
        shape === "one"
          ? `SELECT ${insert}, 1::bigint AS n, 1::bigint AS k`
          : `SELECT ${insert}, row_number() OVER (PARTITION BY p.entity_type, p.entity_id ORDER BY p.ord) AS n,
             count(*) OVER (PARTITION BY p.entity_type, p.entity_id) AS k`
      }
      FROM probe p WHERE p.outcome IN ('fresh', 'corrected')
    )`
}

/**
 * The columns every append statement returns (see `Outcome`): the batch ids appended, the
 * corrections (`batch id, new id, superseded id`, space-separated) and the outdated batch ids.
 */
export const outcomeColumns = `(SELECT array_agg(event_id::text) FROM ev WHERE supersedes IS NULL) AS appended,
    (SELECT array_agg(concat_ws(' ', batch_id, event_id, supersedes)) FROM ev WHERE supersedes IS NOT NULL) AS corrected,
    (SELECT array_agg(event_id::text) FROM probe WHERE outcome = 'outdated') AS outdated,
    (SELECT count(*) FROM ob)::int AS outbox_rows`

/** What `outcomeColumns` return. */
export interface OutcomeRow {
  readonly appended: ReadonlyArray<string> | null
  readonly corrected: ReadonlyArray<string> | null
  readonly outdated: ReadonlyArray<string> | null
  readonly outbox_rows: number
}

/** `append`'s report from a statement's `OutcomeRow` (undefined: no row). */
export const toResult = (prepared: Prepared, row: OutcomeRow | undefined): AppendResult => {
  // The usual case, every event of the batch fresh: no sets to build (appended ids are distinct
  // ids of the batch, so as many of them as the batch has are all of them).
  if (
    row !== undefined &&
    row.corrected === null &&
    row.outdated === null &&
    (row.appended?.length ?? 0) === prepared.unique.length
  ) {
    return {
      appended: prepared.unique.map((e) => e.event_id),
      duplicates: [...prepared.repeated],
      corrected: [],
      outdated: [],
      outboxRows: row.outbox_rows
    }
  }
  const fresh = new Set(row?.appended ?? [])
  const outdated = new Set(row?.outdated ?? [])
  const corrected = (row?.corrected ?? []).map((text): Correction => {
    const [of, event_id, supersedes] = text.split(" ") as [EventId, EventId, EventId]
    return { of, eventId: event_id, supersedes }
  })
  const correctedIds = new Set<string>(corrected.map((c) => c.of))
  const appended: Array<EventId> = []
  const duplicates: Array<EventId> = []
  for (const { event_id } of prepared.unique) {
    if (fresh.has(event_id)) appended.push(event_id)
    else if (!correctedIds.has(event_id) && !outdated.has(event_id)) duplicates.push(event_id)
  }
  return {
    appended,
    duplicates: [...duplicates, ...prepared.repeated],
    corrected,
    outdated: prepared.unique.filter((e) => outdated.has(e.event_id)).map((e) => e.event_id),
    outboxRows: row?.outbox_rows ?? 0
  }
}

/**
 * `raw`: inserts the raw payload (when `when` holds), returning its id when it was inserted
 * (AppendOnce.ts reads that). `rawId` is its id's placeholder, or NULL.
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
      RETURNING raw_id
    ),`
  return { rawId, cte }
}

/**
 * `ev`: inserts the fresh events, each at its stream's revision after this append (`last`) minus its
 * stream's k plus its n: the k fresh events of a stream take its last k revisions, in batch order.
 * `ob`: their outbox rows. ORDER BY ord: positions and outbox ids follow the batch's order.
 */
export const eventsAndOutbox = <I extends Input>(
  t: TableNames,
  p: Param<I>,
  rawId: string,
  revisions: { readonly from: string; readonly last: string }
): string => `
    ev AS (
      INSERT INTO ${t.events} (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, raw_id, revision, supersedes, key_id)
      SELECT f.event_id, f.event_type, f.entity_type, f.entity_id, f.trace_id, f.schema_version, f.occurred_at, f.payload::jsonb,
             ${rawId}::uuid, ${revisions.last} - f.k + f.n, f.supersedes, f.key_id
      FROM ${revisions.from}
      ORDER BY f.ord
      RETURNING event_id, coalesce(key_id, event_id) AS batch_id, supersedes
    ),
    ob AS (
      INSERT INTO ${t.outbox} (event_id, route, topic, ordering_key)
      SELECT ev.event_id, o.route, o.topic, o.ordering_key
      FROM unnest(${p((i) => i.outbox.map((o) => o.event_id))}::uuid[], ${p((i) => i.outbox.map((o) => o.route))}::text[],
                  ${p((i) => i.outbox.map((o) => o.topic))}::text[], ${p((i) => i.outbox.map((o) => o.ordering_key))}::text[])
           WITH ORDINALITY AS o(event_id, route, topic, ordering_key, ord)
      JOIN ev ON ev.batch_id = o.event_id
      ORDER BY o.ord
      RETURNING 1
    )`

/** A stream's key in that map: its type's length first, so that no two streams share one. */
const streamKey = (alias: string) => `length(${alias}entity_type) || ':' || ${alias}entity_type || ${alias}entity_id`

// With many streams, each fresh event finds its stream's revision in a map built once from `st`,
// not by joining `st`: a prepared statement's generic plan estimates every CTE at one row and nests
// the loops, comparing every event with every stream (1,000 events of 500 streams: 94 ms instead of
// 8, measured). The map is an uncorrelated scalar subquery: computed once (an InitPlan).
export const byStream = {
  many: {
    from: "fresh f",
    last: `((SELECT jsonb_object_agg(${streamKey("")}, revision) FROM st) ->> (${streamKey("f.")}))::bigint`
  },
  one: { from: "fresh f, st", last: "st.revision" }
}

// Each stream of the batch moves k revisions on: one locked row per stream, whose latest version
// the upsert reads even if it was committed after this statement's snapshot (see 0003_streams.sql).
// Rows are locked in (entity_type, entity_id) order, so two batches sharing streams cannot deadlock.
export const streamsCte = (t: TableNames) => `
    st AS (
      INSERT INTO ${t.streams} AS s (entity_type, entity_id, revision)
      SELECT entity_type, entity_id, max(k) - 1 FROM fresh GROUP BY entity_type, entity_id ORDER BY entity_type, entity_id
      ON CONFLICT (entity_type, entity_id) DO UPDATE SET revision = s.revision + excluded.revision + 1
      RETURNING entity_type, entity_id, revision
    )`

const statement = (t: TableNames, withRaw: boolean, shape: Shape) =>
  FixedStatement.make<Input>((p) => {
    const raw = withRaw ? rawInsert(t, p) : { rawId: "NULL", cte: "" }
    return `
    WITH ${raw.cte} ${freshEvents(t, p, shape)},${streamsCte(t)}, ${eventsAndOutbox(t, p, raw.rawId, byStream[shape])}
    SELECT ${outcomeColumns}`
  })

/** Builds a schema's append statements (once, when the store starts). */
export const statements = (t: TableNames): Statements => variants((withRaw, shape) => statement(t, withRaw, shape))

/** Runs the append statement (DirectStatement.ts: it runs for every append); `appended` keeps the batch's order. */
export const run = (
  execute: Execute,
  statements: Statements,
  batch: AppendBatch,
  prepared: Prepared
): Effect.Effect<AppendResult, SqlError.SqlError> => {
  const input: Input = { raw: batch.raw, unique: prepared.unique, outbox: prepared.outbox }
  const statement = variantFor(statements, input)
  return Effect.map(execute<OutcomeRow>(statement.text, statement.params(input)), (rows) => toResult(prepared, rows[0]))
}
