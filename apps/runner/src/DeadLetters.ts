/**
 * Dead letters for operators, shared by the `dlq` commands and the admin API: their JSON shape and
 * showing one with its event. (Purging is the store's `purgeDead`.)
 */
import { type EventStore, encodeEvent, type OutboxEntry, type OutboxId } from "@sluice/core"
import { DateTime, Effect, Option } from "effect"

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
