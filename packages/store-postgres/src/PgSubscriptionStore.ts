/**
 * The SubscriptionStore on PostgreSQL (and PGlite), beside the EventStore and the outbox: built by
 * `PgEventStore.makeStores` on the same SqlClient and wake-ups, so its checkpoint writes join the
 * caller's `store.transaction` / `sql.withTransaction` like every other statement.
 *
 * The gap-free read (0004_subscriptions.sql says why): events are handed out in (transaction_id,
 * position) order, and only those of transactions below the oldest one still running, which have
 * all ended: an event that commits later always sorts after everything read before it.
 */
import {
  type Checkpoint,
  CheckpointConflictError,
  type CheckpointSave,
  type LoggedEvent,
  LogPosition,
  maxReadLimit,
  nameProblem,
  StoreError,
  SubscriptionStore
} from "@sluice/core"
import { DateTime, Effect, Option } from "effect"
import { type SqlClient, Statement } from "effect/sql"
import * as DirectStatement from "./DirectStatement.ts"
import { toStoreError } from "./PgErrors.ts"
import { type StoredEventRow, toStoredEvent } from "./Rows.ts"
import type { Wakeup } from "./Wakeup.ts"

interface PositionRow {
  readonly transaction_id: string
  readonly position: string
}

interface LoggedEventRow extends StoredEventRow {
  readonly transaction_id: string
}

interface CheckpointRow extends PositionRow {
  readonly name: string
  readonly updated_at: Date
}

/** xid8 and bigint travel as text; both stay far below 2^53 (xid8 is epoch << 32 | xid). */
const toPosition = (row: PositionRow): LogPosition.LogPosition => ({
  transaction_id: Number(row.transaction_id),
  position: Number(row.position)
})

const toCheckpoint = (row: CheckpointRow): Checkpoint => ({
  name: row.name,
  position: toPosition(row),
  updated_at: DateTime.makeUnsafe(row.updated_at)
})

/** Integers only reach the SQL: a position is compared as xid8 and bigint. */
const positionProblem = (operation: string, field: string, p: LogPosition.LogPosition): StoreError | undefined =>
  Number.isSafeInteger(p.transaction_id) && p.transaction_id >= 0 && Number.isSafeInteger(p.position) && p.position >= 0
    ? undefined
    : new StoreError({
        operation,
        reason: `${field} ${JSON.stringify(p)} must hold non-negative integers`,
        retryable: false
      })

/** Why `name` cannot name a checkpoint, as the StoreError of `operation`, or undefined. */
const nameError = (operation: string, name: string): StoreError | undefined => {
  const problem = nameProblem(name)
  return problem === undefined ? undefined : new StoreError({ operation, reason: problem, retryable: false })
}

/** Why `save` cannot be saved, or undefined. */
const saveProblem = (save: CheckpointSave): StoreError | undefined =>
  nameError("saveCheckpoint", save.name) ??
  (save.from === null ? undefined : positionProblem("saveCheckpoint", "from", save.from)) ??
  positionProblem("saveCheckpoint", "to", save.to)

const checkName = (operation: string, name: string) => {
  const error = nameError(operation, name)
  return error === undefined ? Effect.void : Effect.fail(error)
}

/** The columns Rows.toStoredEvent and toPosition read. */
const columns = `e.event_id::text AS event_id, e.position::text AS position, e.transaction_id::text AS transaction_id,
  e.raw_id::text AS raw_id, e.recorded_at, e.event_type, e.entity_id, e.entity_type, e.trace_id,
  e.schema_version, e.occurred_at, e.payload, e.revision::text AS revision, e.supersedes::text AS supersedes`

/** The read after a (transaction id, position) pair and the checkpoint's compare-and-set, for `schema`. */
const statements = (schema: string) => {
  const quote = Statement.defaultEscape('"')
  const events = quote(`${schema}.events`)
  const checkpoints = quote(`${schema}.subscription_checkpoints`)
  return {
    readAll: `SELECT ${columns} FROM ${events} e
      WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
        AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY e.transaction_id, e.position
      LIMIT $3::int`,
    // A compare-and-set: a concurrent save of the same name waits for the first to end, then finds
    // the row changed (or, for the first save, present) and changes nothing.
    firstSave: `INSERT INTO ${checkpoints} (name, transaction_id, position) VALUES ($1, $2::xid8, $3::bigint)
      ON CONFLICT (name) DO NOTHING RETURNING 1`,
    save: `UPDATE ${checkpoints} SET transaction_id = $2::xid8, position = $3::bigint, updated_at = now()
      WHERE name = $1 AND transaction_id = $4::xid8 AND position = $5::bigint RETURNING 1`
  }
}

/** The subscription half over `schema` (already validated and migrated). */
export const make = (sql: SqlClient.SqlClient, schema: string, wakeup: Wakeup): SubscriptionStore["Service"] => {
  const events = sql(`${schema}.events`)
  const checkpoints = sql(`${schema}.subscription_checkpoints`)
  // Every transaction below the snapshot's xmin has ended: committed ones are visible, and no new
  // event can get an id below it.
  const settled = sql.literal("pg_snapshot_xmin(pg_current_snapshot())")
  // The statements a running subscription sends for every batch, their texts built once (as
  // StreamRead's and FixedStatement's): the sql template compiles its whole text on every call.
  const text = statements(schema)
  // And without the SqlClient's per-statement machinery (DirectStatement.ts), in the caller's
  // transaction if any (a transactional subscription's checkpoint).
  const execute = DirectStatement.executorFor(sql)
  // What toCheckpoint reads.
  const checkpointColumns = sql.literal(
    "name, transaction_id::text AS transaction_id, position::text AS position, updated_at"
  )

  // The statements a live subscription sends per batch keep their spans, without the two Errors
  // (definition and call site) Effect.fn captures on every call.
  const traced = (name: string) => Effect.withSpan(name, undefined, { captureStackTrace: false })
  const tracedRead = traced("PgSubscriptionStore.readAll")
  const tracedSave = traced("PgSubscriptionStore.saveCheckpoint")

  // readAll and saveCheckpoint run for every batch, between a wake-up and the handler and right
  // after it: composed without generators.
  const readAllFailed = toStoreError("readAll")
  const readAll = (after: LogPosition.LogPosition, limit: number) => {
    const problem = positionProblem("readAll", "after", after)
    const count = Math.max(0, Math.min(maxReadLimit, Math.floor(limit)))
    const read: Effect.Effect<ReadonlyArray<LoggedEvent>, StoreError> = problem !== undefined
      ? Effect.fail(problem)
      : count === 0
        ? Effect.succeed([])
        : Effect.map(
            Effect.mapError(
              execute<LoggedEventRow>(text.readAll, [String(after.transaction_id), after.position, count]),
              readAllFailed
            ),
            (rows) => rows.map((row): LoggedEvent => ({ ...toStoredEvent(row), log_position: toPosition(row) }))
          )
    return tracedRead(read)
  }

  const current = (name: string) =>
    sql<CheckpointRow>`SELECT ${checkpointColumns} FROM ${checkpoints} WHERE name = ${name}`.pipe(
      Effect.map((rows) => Option.map(Option.fromNullishOr(rows[0]), toCheckpoint))
    )

  const loadCheckpoint = Effect.fn("PgSubscriptionStore.loadCheckpoint")(function* (name: string) {
    yield* checkName("loadCheckpoint", name)
    return yield* current(name).pipe(Effect.mapError(toStoreError("loadCheckpoint")))
  })

  const saveFailed = toStoreError("saveCheckpoint")
  const saveCheckpoint = (save: CheckpointSave) => {
    const problem = saveProblem(save)
    if (problem !== undefined) return tracedSave(Effect.fail(problem))
    const to = { tx: String(save.to.transaction_id), position: save.to.position }
    // A compare-and-set (see `statements`).
    const changed =
      save.from === null
        ? execute(text.firstSave, [save.name, to.tx, to.position])
        : execute(text.save, [save.name, to.tx, to.position, String(save.from.transaction_id), save.from.position])
    return Effect.flatMap(changed, (rows) =>
      rows.length > 0
        ? Effect.void
        : Effect.flatMap(current(save.name), (actual) =>
            Effect.fail(
              new CheckpointConflictError({
                name: save.name,
                expected: save.from,
                actual: Option.getOrNull(Option.map(actual, (c) => c.position))
              })
            )
          )
    ).pipe(
      Effect.catchTag("SqlError", (error) => Effect.fail(saveFailed(error))),
      tracedSave
    )
  }

  const resetCheckpoint = Effect.fn("PgSubscriptionStore.resetCheckpoint")(function* (name: string) {
    yield* checkName("resetCheckpoint", name)
    const rows = yield* sql`DELETE FROM ${checkpoints} WHERE name = ${name} RETURNING 1`.pipe(
      Effect.mapError(toStoreError("resetCheckpoint"))
    )
    return rows.length > 0
  })

  const listCheckpoints = sql<CheckpointRow>`SELECT ${checkpointColumns} FROM ${checkpoints} ORDER BY name`.pipe(
    Effect.map((rows) => rows.map(toCheckpoint)),
    Effect.mapError(toStoreError("listCheckpoints")),
    Effect.withSpan("PgSubscriptionStore.listCheckpoints")
  )

  const head = sql<PositionRow>`
    SELECT transaction_id::text AS transaction_id, position::text AS position FROM ${events}
    WHERE transaction_id < ${settled}
    ORDER BY transaction_id DESC, position DESC LIMIT 1`.pipe(
    Effect.map((rows) => (rows[0] === undefined ? LogPosition.start : toPosition(rows[0]))),
    Effect.mapError(toStoreError("head")),
    Effect.withSpan("PgSubscriptionStore.head")
  )

  return SubscriptionStore.of({
    readAll,
    loadCheckpoint: (name) => loadCheckpoint(name),
    saveCheckpoint: (save) => saveCheckpoint(save),
    resetCheckpoint: (name) => resetCheckpoint(name),
    listCheckpoints,
    head,
    listen: wakeup.listen
  })
}
