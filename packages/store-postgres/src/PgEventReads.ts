/** The EventStore's reads on PostgreSQL: one event, the log by position, a stream (StreamRead.ts), a raw payload. */
import {
  type EventStore,
  type ReadStreamOptions,
  readStreamProblem,
  type StoredEvent,
  StoreError,
  type StreamName
} from "@sluice/core"
import { Effect, Option } from "effect"
import type { SqlClient } from "effect/sql"
import * as DirectStatement from "./DirectStatement.ts"
import { toStoreError } from "./PgErrors.ts"
import { type RawRow, type StoredEventRow, toRaw, toStoredEvent } from "./Rows.ts"
import * as StreamRead from "./StreamRead.ts"
import type { TableNames, Tables } from "./Tables.ts"

export type PgEventReads = Pick<EventStore["Service"], "getEvent" | "readEvents" | "readStream" | "getRaw">

/** The reads of the tables `t` (named `names`), on `sql`. */
export const make = (sql: SqlClient.SqlClient, t: Tables, names: TableNames): PgEventReads => {
  const readStatements = StreamRead.statements(names)
  const execute = DirectStatement.executorFor(sql)
  const eventColumns = sql.literal(
    `e.event_id::text AS event_id, e.position::text AS position, e.revision::text AS revision, e.raw_id::text AS raw_id, e.recorded_at,
     e.event_type, e.entity_id, e.entity_type, e.trace_id, e.schema_version, e.occurred_at, e.payload,
     e.supersedes::text AS supersedes`
  )

  const getEvent = Effect.fn("PgEventStore.getEvent")(function* (id: string) {
    const rows =
      yield* sql<StoredEventRow>`SELECT ${eventColumns} FROM ${t.events} e WHERE e.event_id = ${id}::uuid`.pipe(
        Effect.mapError(toStoreError("getEvent"))
      )
    return Option.map(Option.fromNullishOr(rows[0]), toStoredEvent)
  })

  const readEvents = Effect.fn("PgEventStore.readEvents")(function* (after: number, limit: number) {
    const rows = yield* sql<StoredEventRow>`
      SELECT ${eventColumns} FROM ${t.events} e WHERE e.position > ${Math.max(0, Math.floor(after))}
      ORDER BY e.position LIMIT ${Math.max(0, Math.floor(limit))}`.pipe(Effect.mapError(toStoreError("readEvents")))
    return rows.map(toStoredEvent)
  })

  // No span of its own (its statement has one): this runs for every command, and Effect.fn's
  // span and stack traces cost more than decoding the rows.
  const readStream = (
    stream: StreamName,
    options: ReadStreamOptions = {}
  ): Effect.Effect<ReadonlyArray<StoredEvent>, StoreError> => {
    const problem = readStreamProblem(stream, options)
    if (problem !== undefined)
      return Effect.fail(new StoreError({ operation: "readStream", reason: problem, retryable: false }))
    return StreamRead.run(execute, readStatements, stream, options ?? {}).pipe(
      Effect.mapError(toStoreError("readStream")),
      Effect.map((rows) => rows.map(toStoredEvent))
    )
  }

  const getRaw = Effect.fn("PgEventStore.getRaw")(function* (id: string) {
    const rows = yield* sql<RawRow>`
      SELECT raw_id::text AS raw_id, source, content_type, body, request, received_at, trace_id, content_hash, transform_error
      FROM ${t.raw} WHERE raw_id = ${id}::uuid`.pipe(Effect.mapError(toStoreError("getRaw")))
    return Option.map(Option.fromNullishOr(rows[0]), toRaw)
  })

  return { getEvent: (id) => getEvent(id), readEvents, readStream, getRaw: (id) => getRaw(id) }
}
