/**
 * The appendToStream statement: append's statement (Append.ts) for one stream, whose stream CTE
 * checks the expected revision while it locks the stream's row. On a mismatch it changes no row,
 * and neither do the raw payload, event and outbox CTEs that follow it: the statement writes
 * nothing and says so (`ok`). One statement per expected form, with or without a raw payload,
 * for one event or many (Append.Shape), built once per store.
 */
import type { ExpectedRevision, StreamName, StreamRevision } from "@sluice/core"
import { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import {
  eventsAndOutbox,
  freshEvents,
  type Input,
  type OutcomeRow,
  outcomeColumns,
  type Param,
  rawInsert,
  type Shape,
  type Variants,
  variantFor,
  variants
} from "./Append.ts"
import type { Execute } from "./DirectStatement.ts"
import * as FixedStatement from "./FixedStatement.ts"
import type { TableNames } from "./Tables.ts"

interface StreamInput extends Input {
  readonly stream: StreamName
  /** The exact expected revision (the `exact` statement only). */
  readonly expected: number
}

type Form = "any" | "no_stream" | "stream_exists" | "exact"

const formOf = (expected: ExpectedRevision): Form => (typeof expected === "number" ? "exact" : expected)

type Statement = FixedStatement.FixedStatement<StreamInput>

export type Statements = Readonly<Record<Form, Variants<StreamInput>>>

/**
 * `st`: the stream's row after this append, locked, when the expected revision holds (`k`: the
 * number of fresh events). A concurrent writer of the stream holds the row until it commits; these
 * wait for it and then act on the row's latest version, so with the same exact revision exactly
 * one of two writers finds its revision there.
 */
const streamCte = (t: TableNames, form: Form, type: string, id: string, p: Param<StreamInput>): string => {
  const k = "(SELECT count(*) FROM fresh)"
  switch (form) {
    case "any":
      return `INSERT INTO ${t.streams} AS s (entity_type, entity_id, revision)
        SELECT ${type}, ${id}, ${k} - 1 WHERE ${k} > 0
        ON CONFLICT (entity_type, entity_id) DO UPDATE SET revision = s.revision + excluded.revision + 1
        RETURNING entity_type, entity_id, revision`
    case "no_stream":
      return `INSERT INTO ${t.streams} (entity_type, entity_id, revision)
        SELECT ${type}, ${id}, ${k} - 1 WHERE ${k} > 0
        ON CONFLICT (entity_type, entity_id) DO NOTHING
        RETURNING entity_type, entity_id, revision`
    case "stream_exists":
      return `UPDATE ${t.streams} SET revision = revision + ${k}
        WHERE entity_type = ${type} AND entity_id = ${id}
        RETURNING entity_type, entity_id, revision`
    case "exact":
      return `UPDATE ${t.streams} SET revision = revision + ${k}
        WHERE entity_type = ${type} AND entity_id = ${id} AND revision = ${p((i) => i.expected)}::bigint
        RETURNING entity_type, entity_id, revision`
  }
}

/** Whether the expected revision held: `st` found the stream as expected (or, with nothing to append, as it is). */
const okExpression = (t: TableNames, form: Form, type: string, id: string): string => {
  const current = `(SELECT 1 FROM ${t.streams} WHERE entity_type = ${type} AND entity_id = ${id})`
  switch (form) {
    case "any":
      return "true"
    case "no_stream":
      return `CASE WHEN EXISTS (SELECT 1 FROM fresh) THEN EXISTS (SELECT 1 FROM st) ELSE NOT EXISTS ${current} END`
    case "stream_exists":
    case "exact":
      return "EXISTS (SELECT 1 FROM st)"
  }
}

// Every event is of the stream, and `st` holds at most its one row (none on a mismatch: no event).
const oneStream = { from: "fresh f, st", last: "st.revision" }

const statement = (t: TableNames, form: Form, withRaw: boolean, shape: Shape): Statement =>
  FixedStatement.make<StreamInput>((p) => {
    const type = `${p((i) => i.stream.entity_type)}::text`
    const id = `${p((i) => i.stream.entity_id)}::text`
    const fresh = freshEvents(t, p, shape)
    const st = streamCte(t, form, type, id, p)
    const raw = withRaw ? rawInsert(t, p, "(SELECT ok FROM ok)") : { rawId: "NULL", cte: "" }
    return `
    WITH ${fresh},
    st AS (${st}),
    ok AS (SELECT ${okExpression(t, form, type, id)} AS ok), ${raw.cte} ${eventsAndOutbox(t, p, raw.rawId, oneStream)}
    SELECT (SELECT ok FROM ok) AS ok, ${outcomeColumns},
           coalesce((SELECT revision FROM st),
                    (SELECT revision FROM ${t.streams} WHERE entity_type = ${type} AND entity_id = ${id}))::text AS revision`
  })

/** Builds a schema's appendToStream statements (once, when the store starts). */
export const statements = (t: TableNames): Statements => {
  const both = (form: Form) => variants((withRaw, shape) => statement(t, form, withRaw, shape))
  return { any: both("any"), no_stream: both("no_stream"), stream_exists: both("stream_exists"), exact: both("exact") }
}

/** What the statement did: nothing (`ok` false: the stream was not at the expected revision), or the append. */
export interface Outcome {
  readonly ok: boolean
  /** What the append did (see `Append.toResult`). */
  readonly row: OutcomeRow | undefined
  /** The stream's revision afterwards (when `ok`). */
  readonly revision: StreamRevision
}

const toRevision = (text: string | null): StreamRevision => (text === null ? "no_stream" : Number(text))

/** Runs the statement for `expected` on a batch prepared by `Append.prepare` (`input`). */
export const run = (
  execute: Execute,
  statements: Statements,
  stream: StreamName,
  expected: ExpectedRevision,
  input: Input
): Effect.Effect<Outcome, SqlError.SqlError> => {
  const streamInput: StreamInput = { ...input, stream, expected: typeof expected === "number" ? expected : -1 }
  const statement = variantFor(statements[formOf(expected)], input)
  const row = execute<OutcomeRow & { ok: boolean; revision: string | null }>(
    statement.text,
    statement.params(streamInput)
  )
  return Effect.map(row, (rows) => ({
    ok: rows[0]?.ok === true,
    row: rows[0],
    revision: toRevision(rows[0]?.revision ?? null)
  }))
}

/** The stream's revision now, read by a statement of its own (after a mismatch: the writer that won has committed). */
export const currentRevision = (
  sql: SqlClient.SqlClient,
  t: TableNames,
  stream: StreamName
): Effect.Effect<StreamRevision, SqlError.SqlError> =>
  Effect.map(
    sql.unsafe<{ revision: string }>(
      `SELECT revision::text AS revision FROM ${t.streams} WHERE entity_type = $1 AND entity_id = $2`,
      [stream.entity_type, stream.entity_id]
    ),
    (rows) => toRevision(rows[0]?.revision ?? null)
  )
