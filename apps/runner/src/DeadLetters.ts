/**
 * Dead letters for operators, shared by the `dlq` commands and the admin API: their JSON shape,
 * showing one with its event, and purging (deleting dead outbox rows; the events themselves are
 * immutable and stay). Purge is SQL-only: the EventStore port has no delete operation.
 */
import { type EventStore, encodeEvent, type OutboxEntry, type OutboxId, StoreError } from "@sluice/core"
import { Context, DateTime, Effect, Option } from "effect"
import { SqlClient } from "effect/sql"

/** A dead letter as JSON. */
export const toJson = (entry: OutboxEntry) => ({
  outbox_id: entry.outbox_id,
  event_id: entry.event_id,
  route: entry.route,
  topic: entry.topic,
  status: entry.status,
  attempts: entry.attempts,
  replays: entry.replays,
  last_error: entry.last_error,
  created_at: DateTime.formatIso(entry.created_at),
  next_attempt_at: DateTime.formatIso(entry.next_attempt_at)
})

/** One dead letter (by outbox id) with its event, or none. */
export const show = (store: EventStore["Service"], id: string) =>
  Effect.gen(function* () {
    if (!/^\d+$/.test(id)) return Option.none()
    const [entry] = yield* store.listOutbox({ status: "dead", outbox_ids: [id as OutboxId], limit: 1 })
    if (entry === undefined) return Option.none()
    const stored = yield* store.getEvent(entry.event_id)
    return Option.some({
      ...toJson(entry),
      event: Option.isSome(stored) ? encodeEvent(stored.value.event) : null
    })
  })

/** Deletes dead outbox rows; present only on SQL stores. */
export class DeadLetterPurge extends Context.Service<
  DeadLetterPurge,
  { readonly purge: (filter: { readonly route?: string }) => Effect.Effect<number, StoreError> }
>()("@sluice/runner/DeadLetterPurge") {}

/** The purge of a SQL store whose tables live in `schema`. */
export const makeSqlPurge = (schema: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const outbox = sql(`${schema}.outbox`)
    return DeadLetterPurge.of({
      purge: (filter) =>
        (filter.route === undefined
          ? sql<{ n: number }>`WITH gone AS (DELETE FROM ${outbox} WHERE status = 'dead' RETURNING 1)
              SELECT count(*)::int AS n FROM gone`
          : sql<{ n: number }>`WITH gone AS (DELETE FROM ${outbox} WHERE status = 'dead' AND route = ${filter.route}
              RETURNING 1) SELECT count(*)::int AS n FROM gone`
        ).pipe(
          Effect.map((rows) => Number(rows[0]?.n ?? 0)),
          Effect.mapError(
            (error) => new StoreError({ operation: "purge", reason: error.message, retryable: error.isRetryable })
          )
        )
    })
  })
