/**
 * `readStream`: a range scan of the events_stream index (entity_type, entity_id, revision),
 * forwards or backwards. Texts built once per store, like the append's (FixedStatement.ts).
 */
import { defaultReadLimit, type ReadStreamOptions, type StreamName } from "@sluice/core"
import type { Effect } from "effect"
import type { SqlError } from "effect/sql"
import type { Execute } from "./DirectStatement.ts"
import type { StoredEventRow } from "./Rows.ts"
import type { TableNames } from "./Tables.ts"

export interface Statements {
  readonly forwards: string
  readonly backwards: string
}

/** The columns Rows.toStoredEvent reads. */
const columns = `e.event_id::text AS event_id, e.position::text AS position, e.revision::text AS revision,
  e.raw_id::text AS raw_id, e.recorded_at, e.event_type, e.entity_id, e.entity_type, e.trace_id, e.schema_version,
  e.occurred_at, e.payload, e.supersedes::text AS supersedes`

export const statements = (t: TableNames): Statements => ({
  forwards: `SELECT ${columns} FROM ${t.events} e
    WHERE e.entity_type = $1 AND e.entity_id = $2 AND e.revision >= $3::bigint ORDER BY e.revision LIMIT $4::int`,
  backwards: `SELECT ${columns} FROM ${t.events} e
    WHERE e.entity_type = $1 AND e.entity_id = $2 AND e.revision <= $3::bigint ORDER BY e.revision DESC LIMIT $4::int`
})

/** Reads the stream; `options` must already be checked (Stream.readStreamProblem). */
export const run = (
  execute: Execute,
  statements: Statements,
  stream: StreamName,
  options: ReadStreamOptions
): Effect.Effect<ReadonlyArray<StoredEventRow>, SqlError.SqlError> => {
  const backwards = options.direction === "backwards"
  return execute<StoredEventRow>(backwards ? statements.backwards : statements.forwards, [
    stream.entity_type,
    stream.entity_id,
    options.from ?? (backwards ? Number.MAX_SAFE_INTEGER : 0),
    options.limit ?? defaultReadLimit
  ])
}
