/**
 * The EventStore's writes on PostgreSQL: `append` (Append.ts, or AppendOnce.ts for a batch appended
 * once), `appendAll` (one statement for independent batches: AppendAll.ts, AppendOnce.ts) and
 * `appendToStream` (StreamAppend.ts), each retried on a lost race (AppendRaces.ts) and waking relays
 * and subscriptions after the commit.
 */
import {
  type AppendBatch,
  type AppendResult,
  type AppendToStreamOptions,
  appendToStreamProblem,
  type EventStore,
  expectedRevisionOf,
  StoreError,
  type StreamName,
  WrongExpectedRevisionError
} from "@sluice/core"
import { Effect } from "effect"
import type { SqlClient } from "effect/sql"
import * as Append from "./Append.ts"
import * as AppendAll from "./AppendAll.ts"
import * as AppendOnce from "./AppendOnce.ts"
import * as AppendRaces from "./AppendRaces.ts"
import * as DirectStatement from "./DirectStatement.ts"
import { toStoreError } from "./PgErrors.ts"
import * as StreamAppend from "./StreamAppend.ts"
import type { TableNames } from "./Tables.ts"
import * as Wakeup from "./Wakeup.ts"

export type PgAppends = Pick<EventStore["Service"], "append" | "appendAll" | "appendToStream">

/** The appends of the schema `names`, on `sql`; `transaction` is the store's (for batches appended in turn). */
export const make = (
  sql: SqlClient.SqlClient,
  names: TableNames,
  wakeup: Wakeup.Wakeup,
  transaction: EventStore["Service"]["transaction"]
): PgAppends => {
  const appendStatements = Append.statements(names)
  const onceStatements = AppendOnce.statements(names)
  const appendAllStatement = AppendAll.statement(names)
  const streamStatements = StreamAppend.statements(names)
  const execute = DirectStatement.executorFor(sql)
  // After the outermost transaction commits (at once when there is none); never on rollback.
  const appendedAfterCommit = sql.afterCommit(wakeup.signal(Wakeup.EVENTS))
  const appendedWorkAfterCommit = sql.afterCommit(wakeup.signal(Wakeup.WORK | Wakeup.EVENTS))

  // Outbox rows are work for relays; new events are news for subscriptions.
  const signalAppended = (result: AppendResult) =>
    result.outboxRows > 0
      ? appendedWorkAfterCommit
      : result.appended.length + result.corrected.length > 0
        ? appendedAfterCommit
        : Effect.void

  const append = Effect.fnUntraced(function* (batch: AppendBatch) {
    const prepared = yield* Append.prepare(batch)
    const statement =
      batch.once === true
        ? AppendOnce.run(
            execute,
            onceStatements,
            { raw: batch.raw, unique: prepared.unique, outbox: prepared.outbox },
            prepared
          )
        : Append.run(execute, appendStatements, batch, prepared)
    const result = yield* AppendRaces.retryingRaces(sql, "append", statement)
    yield* signalAppended(result)
    return result
  })

  // One statement for independent batches with raw payloads (AppendAll.ts); otherwise each in
  // turn, in one transaction.
  const appendAll = Effect.fnUntraced(function* (batches: ReadonlyArray<AppendBatch>) {
    if (batches.length === 0) return []
    if (batches.length === 1) return [yield* append(batches[0]!)]
    const prepared = yield* Append.prepareAll(batches)
    // Independent batches appended `once` (a push source's concurrent deliveries): AppendOnce.ts.
    const combined = AppendAll.canCombine(batches, prepared)
      ? AppendAll.run(execute, appendAllStatement, batches, prepared)
      : AppendOnce.canCombine(batches, prepared)
        ? AppendOnce.runAll(execute, onceStatements, batches, prepared)
        : undefined
    if (combined === undefined) return yield* transaction(Effect.forEach(batches, append))
    const results = yield* AppendRaces.retryingRaces(sql, "append", combined)
    yield* signalAppended({
      appended: results.flatMap((r) => r.appended),
      duplicates: [],
      corrected: results.flatMap((r) => r.corrected),
      outdated: [],
      outboxRows: results.reduce((n, r) => n + r.outboxRows, 0)
    })
    return results
  })

  const appendToStream = Effect.fnUntraced(function* (
    stream: StreamName,
    batch: AppendBatch,
    options: AppendToStreamOptions = {}
  ) {
    const expected = expectedRevisionOf(options)
    const prepared = yield* Append.prepare(batch, "appendToStream")
    const problem = appendToStreamProblem(stream, batch, expected)
    if (problem !== undefined)
      return yield* new StoreError({ operation: "appendToStream", reason: problem, retryable: false })
    const outcome = yield* AppendRaces.retryingRaces(
      sql,
      "appendToStream",
      StreamAppend.run(execute, streamStatements, stream, expected, { ...prepared, raw: batch.raw })
    )
    if (!outcome.ok) {
      const actual = yield* StreamAppend.currentRevision(sql, names, stream).pipe(
        Effect.mapError(toStoreError("appendToStream"))
      )
      return yield* new WrongExpectedRevisionError({ stream, expected, actual })
    }
    const result = Append.toResult(prepared, outcome.row)
    yield* signalAppended(result)
    return { ...result, nextExpectedRevision: outcome.revision }
  })

  return {
    append,
    appendAll,
    appendToStream: (stream, batch, options) => appendToStream(stream, batch, options)
  }
}
