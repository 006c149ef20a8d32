/**
 * The append statements for batches appended `once` (webhook deliveries keyed by their raw payload
 * ids): Append.ts's statement whose events are gated on their raw payload's insert. `raw` inserts
 * the payload with ON CONFLICT DO NOTHING and returns its id only when it inserted it; an event
 * whose raw payload was not inserted is left out of the input, so no event, stream revision or
 * outbox row of a redelivered batch is written and the statement reports it `redelivered`. The gate
 * is the unique index itself: an insert of an id a concurrent transaction is inserting waits for it,
 * then inserts (it rolled back) or does nothing (it committed), so of two deliveries of one id
 * exactly one appends, with no lookup before the statement and no transaction around it: one round
 * trip, as a plain append. `all` does the same for many independent batches (a push source's
 * concurrent deliveries, appended together): one statement, each batch gated on its own payload.
 */
import { type AppendBatch, type AppendResult, redeliveredResult } from "@sluice/core"
import { Effect } from "effect"
import type { SqlError } from "effect/sql"
import {
  byStream,
  eventsAndOutbox,
  freshEvents,
  type Input,
  type OutcomeRow,
  outcomeColumns,
  type Prepared,
  rawInsert,
  type Shape,
  streamsCte,
  toResult
} from "./Append.ts"
import { type AllInput, independent, inputOf, rawsInsert, toResults } from "./AppendAll.ts"
import type { Execute } from "./DirectStatement.ts"
import * as FixedStatement from "./FixedStatement.ts"
import type { TableNames } from "./Tables.ts"

/** The statements of a schema: for one event or many (Append.Shape), and for many batches. */
export interface Statements extends Readonly<Record<Shape, FixedStatement.FixedStatement<Input>>> {
  readonly all: FixedStatement.FixedStatement<AllInput>
}

const statement = (t: TableNames, shape: Shape) =>
  FixedStatement.make<Input>((p) => {
    const raw = rawInsert(t, p)
    const fresh = freshEvents(t, p, shape, { gate: "EXISTS (SELECT 1 FROM raw)" })
    return `
    WITH ${raw.cte} ${fresh},${streamsCte(t)}, ${eventsAndOutbox(t, p, raw.rawId, byStream[shape])}
    SELECT ${outcomeColumns}, NOT EXISTS (SELECT 1 FROM raw) AS redelivered`
  })

// AppendAll.ts's statement, with each event gated on its batch's raw payload being inserted here.
const allStatement = (t: TableNames) =>
  FixedStatement.make<AllInput>((p) => {
    const fresh = freshEvents<AllInput>(t, p, "many", {
      perEvent: { rawId: (i) => i.rawIds, receivedAt: (i) => i.receivedAts },
      gate: "e.raw_id IN (SELECT raw_id FROM raw)"
    })
    return `
    WITH raw AS (${rawsInsert(t, p)}
      RETURNING raw_id
    ), ${fresh},${streamsCte(t)}, ${eventsAndOutbox(t, p, "f.raw_id", byStream.many)}
    SELECT ${outcomeColumns}, (SELECT array_agg(raw_id::text) FROM raw) AS inserted`
  })

/** Builds a schema's statements (once, when the store starts). */
export const statements = (t: TableNames): Statements => ({
  one: statement(t, "one"),
  many: statement(t, "many"),
  all: allStatement(t)
})

/**
 * Runs the statement for a prepared batch with a raw payload, through `execute`
 * (DirectStatement.ts: a webhook delivery is a hot path).
 */
export const run = (
  execute: Execute,
  statements: Statements,
  input: Input,
  prepared: Prepared
): Effect.Effect<AppendResult, SqlError.SqlError> => {
  const statement = statements[input.unique.length === 1 ? "one" : "many"]
  return Effect.map(
    execute<OutcomeRow & { readonly redelivered: boolean }>(statement.text, statement.params(input)),
    (rows) => (rows[0]?.redelivered === true ? redeliveredResult : toResult(prepared, rows[0]))
  )
}

/**
 * Whether `all` can append `batches` (each prepared) as `append` would one after the other: every
 * batch `once`, and no raw payload id or event id in two of them (a later batch would depend on an
 * earlier one, which one snapshot cannot see).
 */
export const canCombine = (batches: ReadonlyArray<AppendBatch>, prepared: ReadonlyArray<Prepared>): boolean =>
  independent(batches, prepared, true)

/** Runs `all` for `batches` (each prepared, `canCombine`) through `execute`: one result per batch, in order. */
export const runAll = (
  execute: Execute,
  statements: Statements,
  batches: ReadonlyArray<AppendBatch>,
  prepared: ReadonlyArray<Prepared>
): Effect.Effect<ReadonlyArray<AppendResult>, SqlError.SqlError> => {
  const input = inputOf(batches, prepared)
  return Effect.map(
    execute<OutcomeRow & { readonly inserted: ReadonlyArray<string> | null }>(
      statements.all.text,
      statements.all.params(input)
    ),
    (rows) => {
      const inserted = new Set(rows[0]?.inserted ?? [])
      const results = toResults(prepared, rows[0])
      return batches.map((batch, i) => (inserted.has(batch.raw!.raw_id) ? results[i]! : redeliveredResult))
    }
  )
}
