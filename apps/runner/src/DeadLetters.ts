/**
 * Dead letters for operators, shared by the `dlq` commands and the admin API: their JSON shape,
 * a page of them, showing one with its event, and how the commands print them. (Purging is the
 * store's `purgeDead`.)
 */
import { type EventStore, encodeEvent, type OutboxAdmin, type OutboxEntry, type OutboxId } from "@sluice/core"
import { Console, DateTime, Effect, Option, Schema } from "effect"

/** A dead letter as JSON (the field order is the printed order). */
export const DeadLetter = Schema.Struct({
  outbox_id: Schema.String,
  event_id: Schema.String,
  route: Schema.String,
  topic: Schema.String,
  status: Schema.String,
  attempts: Schema.Number,
  replays: Schema.Number,
  last_error: Schema.NullOr(Schema.String),
  created_at: Schema.String,
  next_attempt_at: Schema.String
})
export type DeadLetter = typeof DeadLetter.Type

/**
 * A page of dead letters, oldest first: what `GET /api/dead-letters` answers and `dlq list --json`
 * prints. `next_after` is the last id when the page is full (pass it as `after` for the next page).
 */
export const Page = Schema.Struct({
  dead_letters: Schema.Array(DeadLetter),
  next_after: Schema.NullOr(Schema.String)
})
export type Page = typeof Page.Type

/** A dead letter as JSON. */
export const toJson = (entry: OutboxEntry): DeadLetter => ({
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

/** Rows read with `limit` as a page. */
export const toPage = (rows: ReadonlyArray<DeadLetter>, limit: number): Page => ({
  dead_letters: rows,
  next_after: rows.length === limit && rows.length > 0 ? rows[rows.length - 1]!.outbox_id : null
})

/** Up to `limit` dead letters after the outbox id `after` (if given), oldest first. */
export const page = (
  store: OutboxAdmin["Service"],
  options: { readonly limit: number; readonly route?: string | undefined; readonly after?: string | undefined }
) =>
  Effect.map(
    store.listOutbox({
      status: "dead",
      limit: options.limit,
      ...(options.route === undefined ? {} : { route: options.route }),
      ...(options.after === undefined ? {} : { after: options.after as OutboxId })
    }),
    (entries) => toPage(entries.map(toJson), options.limit)
  )

const maxBigint = 9_223_372_036_854_775_807n

/** True for text that can be an outbox id (a bigint): anything else must not reach the SQL. */
export const isOutboxId = (id: string): id is OutboxId => /^\d{1,19}$/.test(id) && BigInt(id) <= maxBigint

/** One dead letter (by outbox id) with its event (read from `events`, the log), or none. */
export const show = (store: OutboxAdmin["Service"], events: EventStore["Service"], id: string) =>
  Effect.gen(function* () {
    if (!isOutboxId(id)) return Option.none()
    const [entry] = yield* store.listOutbox({ status: "dead", outboxIds: [id], limit: 1 })
    if (entry === undefined) return Option.none()
    const stored = yield* events.getEvent(entry.event_id)
    return Option.some({
      ...toJson(entry),
      event: Option.isSome(stored) ? encodeEvent(stored.value.event) : null
    })
  })

/**
 * What a replay did, as `POST /api/dead-letters/replay` answers it: the rows moved back to pending,
 * and the requested ids that are not dead letters (unknown, not dead, or not of the route).
 */
export const Replayed = Schema.Struct({ replayed: Schema.Number, not_dead_letters: Schema.Array(Schema.String) })
export type Replayed = typeof Replayed.Type

/** A replay filter; `ids` empty means every dead letter the other fields match. */
export interface ReplayFilter {
  readonly ids: ReadonlyArray<string>
  readonly route?: string | undefined
  readonly eventType?: string | undefined
}

/**
 * Replays the dead letters a filter names. Requested ids that are not dead letters are reported,
 * not an error here: the others are still replayed.
 */
export const replay = (store: OutboxAdmin["Service"], filter: ReplayFilter) =>
  Effect.gen(function* () {
    const route = filter.route === undefined ? {} : { route: filter.route }
    const eventType = filter.eventType === undefined ? {} : { eventType: filter.eventType }
    const requested = [...new Set(filter.ids)]
    const numeric = requested.filter(isOutboxId)
    const dead =
      numeric.length === 0
        ? []
        : yield* store.listOutbox({ status: "dead", outboxIds: numeric, limit: numeric.length, ...route })
    const found = new Set(dead.map((entry) => String(entry.outbox_id)))
    const missing = requested.filter((id) => !found.has(id))
    const replayed =
      requested.length > 0 && found.size === 0
        ? 0
        : yield* store.replay({
            ...(requested.length > 0 ? { outboxIds: dead.map((entry) => entry.outbox_id) } : {}),
            ...route,
            ...eventType
          })
    return { replayed, not_dead_letters: missing } satisfies Replayed
  })

/** `dlq list` output: the page as JSON with `json`, else one tab-separated line per dead letter. */
export const printPage = (page: Page, json: boolean) =>
  Effect.gen(function* () {
    if (json) return yield* Console.log(JSON.stringify(page, null, 2))
    if (page.dead_letters.length === 0) return yield* Console.log("no dead letters")
    for (const r of page.dead_letters) {
      yield* Console.log(`${r.outbox_id}\t${r.route}\t${r.event_id}\tattempts ${r.attempts}\t${r.last_error ?? ""}`)
    }
  })

/** `dlq show` output. */
export const printShown = (shown: unknown) => Console.log(JSON.stringify(shown, null, 2))
