/**
 * The append statement for a batch appended `once` (a webhook delivery keyed by its raw payload
 * id): Append.ts's statement whose events are gated on the raw payload's insert. `raw` inserts the
 * payload with ON CONFLICT DO NOTHING and returns its id only when it inserted it; the events' input
 * is empty otherwise, so no event, stream revision or outbox row is written and the statement
 * reports `redelivered`. The gate is the unique index itself: an insert of an id a concurrent
 * transaction is inserting waits for it, then inserts (it rolled back) or does nothing (it
 * committed), so of two deliveries of one id exactly one appends, with no lookup before the
 * statement and no transaction around it: one round trip, as a plain append.
 */
import { type AppendResult, redeliveredResult } from "@sluice/core"
import { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
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
import * as FixedStatement from "./FixedStatement.ts"
import type { TableNames } from "./Tables.ts"

/** The statements of a schema, for one event or many (Append.Shape). */
export type Statements = Readonly<Record<Shape, FixedStatement.FixedStatement<Input>>>

const statement = (t: TableNames, shape: Shape) =>
  FixedStatement.make<Input>((p) => {
    const raw = rawInsert(t, p)
    const fresh = freshEvents(t, p, shape, { gate: "EXISTS (SELECT 1 FROM raw)" })
    return `
    WITH ${raw.cte} ${fresh},${streamsCte(t)}, ${eventsAndOutbox(t, p, raw.rawId, byStream[shape])}
    SELECT ${outcomeColumns}, NOT EXISTS (SELECT 1 FROM raw) AS redelivered`
  })

/** Builds a schema's statements (once, when the store starts). */
export const statements = (t: TableNames): Statements => ({ one: statement(t, "one"), many: statement(t, "many") })

/** Runs the statement for a prepared batch with a raw payload. */
export const run = (
  sql: SqlClient.SqlClient,
  statements: Statements,
  input: Input,
  prepared: Prepared
): Effect.Effect<AppendResult, SqlError.SqlError> =>
  Effect.map(
    FixedStatement.execute<OutcomeRow & { readonly redelivered: boolean }, Input>(
      sql,
      statements[input.unique.length === 1 ? "one" : "many"],
      input
    ),
    (rows) => (rows[0]?.redelivered === true ? redeliveredResult : toResult(prepared, rows[0]))
  )
