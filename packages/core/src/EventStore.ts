/**
 * The EventStore port: the durable heart of Sluice. It keeps raw payloads, the immutable event log
 * and the outbox, and it is the only place where the outbox state machine (Outbox.ts) is applied.
 *
 * Contract (every adapter runs the suite in `@sluice/core/testing`):
 * - `append` is atomic: the raw payload, the new events and their outbox rows are all stored or none
 *   is. An event whose id is already stored with the same content as that id's latest version is a
 *   duplicate: it and its outbox rows are skipped. With other content it is a correction
 *   (Correction.ts): stored under a new id with `supersedes`, its outbox rows going with it; or
 *   outdated when its raw payload is older than the latest version's, and skipped.
 *   A batch holding text PostgreSQL cannot store (U+0000, lone surrogates: StorableText.ts) is
 *   refused whole, not retryable, naming the field, by every store alike.
 * - Every stored event gets the next revision of its entity's stream (Stream.ts), gap-free from 0;
 *   a duplicate takes none. `append` (the ingestion path) takes the next revision whatever it is;
 *   `appendToStream` first checks the stream's revision against the expected one and, on a
 *   mismatch, fails with WrongExpectedRevisionError having written nothing (no raw payload, event or
 *   outbox row). Otherwise it is `append`: same batch, duplicates, outbox rows and atomicity.
 *   Concurrent appends to one stream take turns: with an exact expected revision exactly one wins.
 * - `readStream` returns a stream's events in revision order (forwards or backwards); `readEvents`
 *   the whole log in position order.
 * - `transaction` runs an effect so that every append inside it commits or rolls back with it; a SQL
 *   store also runs the caller's own statements in it (the outbox pattern's business write).
 * - `claim` leases up to `limit` due pending rows in (next_attempt_at, append order) order, never a
 *   row leased by someone else; on an ordered route it never hands out an entity's row while an
 *   earlier row of that entity on that route is still pending.
 * - `complete` applies results in bulk; a result whose lease token is not the row's current,
 *   unexpired token is rejected (fencing), and reported as such, never applied.
 * - `replay` moves dead rows back to pending with attempts reset.
 */
import { Context, Data, type DateTime, type Duration, type Effect, type Option } from "effect"
import { batchContentProblem, type Correction } from "./Correction.ts"
import type { Event, EventId, RawPayload, RawPayloadId } from "./Event.ts"
import type { OutboxEntry, OutboxId, OutboxStatus } from "./Outbox.ts"
import { batchProblem } from "./StorableText.ts"
import type {
  AppendToStreamOptions,
  ReadStreamOptions,
  StreamAppendResult,
  StreamName,
  WrongExpectedRevisionError
} from "./Stream.ts"

/** A store operation failed (connection lost, constraint violated, bad input). */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly operation: string
  readonly reason: string
  /** Whether the same call may succeed later (a lost connection) or not (invalid input). */
  readonly retryable: boolean
  readonly cause?: unknown
}> {
  override get message() {
    return `${this.operation}: ${this.reason}`
  }
}

/** An outbox row to create with an event. */
export interface OutboxDraft {
  readonly event_id: EventId
  readonly route: string
  readonly topic: string
  /** Set for ordered routes (usually `entity_type:entity_id`). */
  readonly ordering_key: string | null
}

export interface AppendBatch {
  /** The raw payload the events were derived from (null when appending events made in code). */
  readonly raw: RawPayload | null
  readonly events: ReadonlyArray<Event>
  /** Outbox rows; each must name an event of this batch. */
  readonly outbox: ReadonlyArray<OutboxDraft>
}

/**
 * Why no store may append `batch` (an outbox row naming an event the batch does not hold, or text
 * PostgreSQL cannot store), or undefined: every store refuses the same batches with the same words.
 */
export const appendBatchProblem = (batch: AppendBatch): string | undefined => {
  const ids = new Set(batch.events.map((event) => event.event_id))
  const stray = batch.outbox.find((draft) => !ids.has(draft.event_id))
  if (stray !== undefined)
    return `outbox row for route ${stray.route} names event ${stray.event_id}, which is not in the batch`
  return batchProblem(batch) ?? batchContentProblem(batch.events)
}

export interface AppendResult {
  /** Events stored by this call. */
  readonly appended: ReadonlyArray<EventId>
  /** Events skipped because their id was already stored with the same content (or repeated in the batch). */
  readonly duplicates: ReadonlyArray<EventId>
  /** Events whose id was stored with other content: each stored anew as a correction (Correction.ts). */
  readonly corrected: ReadonlyArray<Correction>
  /** Events whose id was stored with other content from a later raw payload: skipped (Correction.ts). */
  readonly outdated: ReadonlyArray<EventId>
  /** Outbox rows created. */
  readonly outbox_rows: number
}

export interface ClaimOptions {
  /** Who claims (process and worker), recorded on the lease for operators. */
  readonly owner: string
  readonly limit: number
  /** How long the lease lasts; after it, the rows may be claimed by others. */
  readonly lease: Duration.Duration
  /** Claim only these routes (default: all). */
  readonly routes?: ReadonlyArray<string>
}

export interface Claimed {
  readonly entry: OutboxEntry
  readonly event: Event
}

export type Completion = Data.TaggedEnum<{
  Delivered: { readonly outbox_id: OutboxId; readonly token: string }
  /**
   * Try again after `delay_ms`, counted by the store's clock from when it records the result (not
   * an absolute time from the relay's clock: relays on hosts with skewed clocks would otherwise
   * shorten or stretch every backoff).
   */
  Retry: {
    readonly outbox_id: OutboxId
    readonly token: string
    readonly error: string
    readonly delay_ms: number
  }
  Dead: { readonly outbox_id: OutboxId; readonly token: string; readonly error: string }
  /** Give the row back without counting an attempt (graceful shutdown). */
  Release: { readonly outbox_id: OutboxId; readonly token: string }
}>
export const Completion = Data.taggedEnum<Completion>()

export interface CompletionReport {
  readonly applied: ReadonlyArray<OutboxId>
  /** Results refused because the lease was stale (expired, or the row was claimed again) or the row was no longer pending. */
  readonly rejected: ReadonlyArray<OutboxId>
}

export interface OutboxFilter {
  readonly status?: OutboxStatus
  readonly route?: string
  readonly outbox_ids?: ReadonlyArray<OutboxId>
  /** Page after this id (rows come in id order). */
  readonly after?: OutboxId
  /** @default 100 */
  readonly limit?: number
}

export interface ReplayFilter {
  readonly outbox_ids?: ReadonlyArray<OutboxId>
  readonly route?: string
  readonly event_type?: string
}

/** Which dead letters `purgeDead` deletes: all, or one route's. */
export interface PurgeFilter {
  readonly route?: string
}

export interface StoredEvent {
  /** Monotonic global position: the order of `readEvents`. */
  readonly position: number
  /** The event's revision in its entity's stream: 0 for the stream's first event, then gap-free. */
  readonly revision: number
  readonly raw_id: RawPayloadId | null
  readonly recorded_at: DateTime.Utc
  readonly event: Event
}

/** The undelivered rows of a route (or of all routes). */
export interface RouteBacklog {
  readonly pending: number
  /** Pending rows under an unexpired lease (a relay is publishing them). */
  readonly leased: number
  readonly dead: number
  readonly oldest_pending_at: DateTime.Utc | null
}

export interface OutboxBacklog extends RouteBacklog {
  readonly by_route: Readonly<Record<string, RouteBacklog>>
}

export interface RouteStats extends RouteBacklog {
  readonly delivered: number
}

export interface OutboxStats extends RouteStats {
  readonly by_route: Readonly<Record<string, RouteStats>>
}

const withoutDelivered = ({ delivered: _, ...backlog }: RouteStats): RouteBacklog => backlog

/** The backlog part of `stats`: no delivered counts, and only the routes with pending or dead rows. */
export const backlogOf = ({ by_route, ...total }: OutboxStats): OutboxBacklog => ({
  ...withoutDelivered(total),
  by_route: Object.fromEntries(
    Object.entries(by_route)
      .filter(([, s]) => s.pending + s.dead > 0)
      .map(([route, s]) => [route, withoutDelivered(s)])
  )
})

export class EventStore extends Context.Service<
  EventStore,
  {
    readonly append: (batch: AppendBatch) => Effect.Effect<AppendResult, StoreError>
    /**
     * `append` for the events of one stream, after checking the stream's revision (default
     * `any`): every event of `batch` must belong to `stream`.
     */
    readonly appendToStream: (
      stream: StreamName,
      batch: AppendBatch,
      options?: AppendToStreamOptions
    ) => Effect.Effect<StreamAppendResult, WrongExpectedRevisionError | StoreError>
    /** A stream's events in revision order; none for a stream that has none. */
    readonly readStream: (
      stream: StreamName,
      options?: ReadStreamOptions
    ) => Effect.Effect<ReadonlyArray<StoredEvent>, StoreError>
    readonly transaction: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
    readonly claim: (options: ClaimOptions) => Effect.Effect<ReadonlyArray<Claimed>, StoreError>
    readonly complete: (results: ReadonlyArray<Completion>) => Effect.Effect<CompletionReport, StoreError>
    readonly replay: (filter: ReplayFilter) => Effect.Effect<number, StoreError>
    /**
     * Deletes dead-lettered outbox rows for good and returns how many. Their events and raw payloads
     * stay (the event log is immutable), so appending the same event again is still a duplicate.
     */
    readonly purgeDead: (filter: PurgeFilter) => Effect.Effect<number, StoreError>
    readonly listOutbox: (filter: OutboxFilter) => Effect.Effect<ReadonlyArray<OutboxEntry>, StoreError>
    readonly getEvent: (id: EventId) => Effect.Effect<Option.Option<StoredEvent>, StoreError>
    /** Events in position order, after `after` (exclusive; 0 for the start). */
    readonly readEvents: (after: number, limit: number) => Effect.Effect<ReadonlyArray<StoredEvent>, StoreError>
    readonly getRaw: (id: RawPayloadId) => Effect.Effect<Option.Option<RawPayload>, StoreError>
    /**
     * Every outbox row counted by state, per route. Delivered rows are kept (audit), so a database
     * store reads the whole outbox: for an operator's look, not for polling.
     */
    readonly stats: Effect.Effect<OutboxStats, StoreError>
    /**
     * `stats` without the delivered count, read from the pending and dead rows only: its cost follows
     * the backlog, not the outbox's history. For metrics scraped every few seconds. `by_route` holds
     * the routes that have pending or dead rows.
     */
    readonly backlog: Effect.Effect<OutboxBacklog, StoreError>
    /**
     * Waits until rows may have become claimable, or `maxWait` passes, whichever is first: after an
     * append, a replay, a release, a retry (claimable once due: `Relay.start` ends its next wait at
     * the due time itself), or a settled row of an ordered route (a plain delivery makes no work and wakes
     * nobody). A wake-up that comes while nobody waits is kept for the next call, which returns at
     * once (one kept wake-up per store, whichever caller waits first). Relays call it when a claim
     * came back short; it never replaces polling.
     */
    readonly waitForWork: (maxWait: Duration.Duration) => Effect.Effect<void, StoreError>
  }
>()("sluice/EventStore") {}
