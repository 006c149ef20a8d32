/**
 * What an append does when a concurrent one won a race (Append.ts's statement): the same statement
 * runs again, outside a caller's transaction, and fails retryable inside one.
 */
import { StoreError } from "@sluice/core"
import { Effect, Option } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import { toStoreError } from "./PgErrors.ts"

/**
 * True when `error` says that an event of the batch was stored (or its key corrected) by an append
 * that committed while this one ran (see `freshEvents`): the same statement run again compares it
 * with what that append stored.
 */
export const isConcurrentDuplicate = (error: SqlError.SqlError): boolean =>
  error.reason._tag === "UniqueViolation" &&
  /events_pkey|events_supersedes/.test(`${error.reason.constraint} ${error.message}`)

/**
 * True when `error` says that a later transaction appended to one of the batch's streams first
 * (0004's `streams_in_transaction_order`): the statement run again, as a new transaction with a new
 * transaction id, appends after it.
 */
export const isStreamOutOfOrder = (error: SqlError.SqlError): boolean =>
  error.reason._tag === "SerializationError" && /appended to by a later transaction/.test(error.message)

/**
 * Runs an append statement. One that met an event stored by an append committed meanwhile
 * (`isConcurrentDuplicate`) runs again, now seeing it as a duplicate; one refused because a later
 * transaction appended to its stream first (`isStreamOutOfOrder`) runs again as a new transaction.
 * Inside the caller's transaction neither can (the failed statement aborted it, and its transaction
 * id stays), and it fails retryable instead. Other errors become StoreErrors (`toStoreError`).
 */
export const retryingRaces = <A>(
  sql: SqlClient.SqlClient,
  operation: string,
  statement: Effect.Effect<A, SqlError.SqlError>,
  retries = 3
): Effect.Effect<A, StoreError> =>
  // Nothing but a catch on the way of a statement that succeeds (the usual case).
  Effect.catch(statement, (error) => {
    const duplicate = isConcurrentDuplicate(error)
    if (!duplicate && !isStreamOutOfOrder(error)) return Effect.fail(toStoreError(operation)(error))
    return Effect.flatMap(Effect.serviceOption(sql.transactionService), (transaction) =>
      retries > 0 && Option.isNone(transaction)
        ? retryingRaces(sql, operation, statement, retries - 1)
        : Effect.fail(
            new StoreError({
              operation,
              reason: `${duplicate ? "a concurrent append stored an event of this batch first" : "a later transaction appended to this stream first"}; run the transaction again (${error.message})`,
              retryable: true,
              cause: error
            })
          )
    )
  })
