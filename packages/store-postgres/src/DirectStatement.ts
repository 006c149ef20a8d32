/**
 * The store's per-call statements (readStream's read, appendToStream's append) run on the
 * connection of a SqlClient this package made (PostgresJs.ts, Pglite.ts) without the SqlClient's
 * per-statement machinery: a Statement object, its compilation and cache entry, a span with its
 * attributes and timing. For a command (a read and an append) that machinery cost about as much
 * CPU as the store's own work around both statements. The connection is chosen as the SqlClient
 * chooses it: the caller's transaction's if there is one (so the statement joins it), else the
 * client's borrower. On any other SqlClient (an application's own) statements go through
 * `sql.unsafe`, as every other statement of the store does.
 */
import { Context, Effect } from "effect"
import { SqlClient, type SqlConnection, type SqlError } from "effect/sql"

/** Runs `f` on a connection outside any transaction (the SqlClient's `borrower`). */
export type Borrow = <A>(
  f: (connection: SqlConnection.Connection) => Effect.Effect<A, SqlError.SqlError>
) => Effect.Effect<A, SqlError.SqlError>

/** Runs a statement's text with its parameters, in the caller's transaction if any. */
export type Execute = <A extends object>(
  text: string,
  params: ReadonlyArray<unknown>
) => Effect.Effect<ReadonlyArray<A>, SqlError.SqlError>

const borrowers = new WeakMap<SqlClient.SqlClient, Borrow>()

/** Declares `sql` one of this package's clients, whose pool `borrow` reaches. */
export const register = (sql: SqlClient.SqlClient, borrow: Borrow): void => {
  borrowers.set(sql, borrow)
}

/** How to run statements on `sql`: directly when it is one of this package's clients. */
export const executorFor = (sql: SqlClient.SqlClient): Execute => {
  const borrow = borrowers.get(sql)
  if (borrow === undefined)
    return <A extends object>(text: string, params: ReadonlyArray<unknown>) => sql.unsafe<A>(text, params)
  return <A extends object>(text: string, params: ReadonlyArray<unknown>) =>
    Effect.withFiber((fiber) => {
      const run = (connection: SqlConnection.Connection) =>
        connection.execute(text, params, undefined) as Effect.Effect<ReadonlyArray<A>, SqlError.SqlError>
      const transaction = Context.getOrUndefined(fiber.context, sql.transactionService)
      return transaction === undefined
        ? borrow(run)
        : Effect.flatMap(SqlClient.activeTransactionConnection(transaction), run)
    })
}
