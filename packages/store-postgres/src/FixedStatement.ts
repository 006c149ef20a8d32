/**
 * A statement whose SQL text is built once, for the hot paths (a single-event append runs
 * thousands of times a second). Effect's `sql` template rebuilds and recompiles the whole text on
 * every call: for the append, 7.5 KB of garbage and most of the store's own CPU per call, whose
 * collection pauses showed in the commit-to-publish p99. Here each parameter is declared with the
 * function that reads it from the input, and gets its `$n` from the order of declaration, so text
 * and values cannot drift apart. The appends run it as DirectStatement.ts does; `executeUnprepared`
 * runs it through the SqlClient (`sql.unsafe`), in the caller's transaction if any.
 */
import type { Effect } from "effect"
import type { SqlClient, SqlError } from "effect/sql"

export interface FixedStatement<I> {
  readonly text: string
  /** The parameter values for `input`, in `$1..$n` order. */
  readonly params: (input: I) => ReadonlyArray<unknown>
}

/** `build` writes the text, calling `param` for each parameter where its placeholder goes. */
export const make = <I>(build: (param: (read: (input: I) => unknown) => string) => string): FixedStatement<I> => {
  const readers: Array<(input: I) => unknown> = []
  let built = false
  const text = build((read) => {
    // A parameter declared later (from a closure) would have no place in the text.
    if (built) throw new Error("FixedStatement: parameter declared after the text was built")
    readers.push(read)
    return `$${readers.length}`
  })
  built = true
  return { text, params: (input) => readers.map((read) => read(input)) }
}

/**
 * Runs the statement for `input` through the SqlClient, in the caller's transaction if any, unprepared:
 * planned anew with its values each time (the outbox's claim and completion, see OutboxSql.ts).
 */
export const executeUnprepared = <A extends object, I>(
  sql: SqlClient.SqlClient,
  statement: FixedStatement<I>,
  input: I
): Effect.Effect<ReadonlyArray<A>, SqlError.SqlError> =>
  sql.unsafe<A>(statement.text, statement.params(input)).unprepared
