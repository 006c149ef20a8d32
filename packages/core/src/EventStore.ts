/**
 * The EventStore port: the event log, the durable heart of Sluice. It keeps raw payloads and the
 * immutable event log, and creates the outbox rows an append routes (relays take them through the
 * OutboxQueue port, operators through OutboxAdmin, subscriptions read the log through
 * SubscriptionStore: one adapter layer provides all four over one state or connection).
 *
 * Contract (every adapter runs `EventStoreContract` and `StreamContract` in `@sluice/core/testing`):
 * - `append` is atomic: the raw payload, the new events and their outbox rows are all stored or none
 *   is (a batch appended `once` whose raw payload id is stored already appends nothing); `appendAll` likewise for many batches, as if appended one after the other in a transaction. An event whose id is already stored with the same content as that id's latest version is a
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
 *   store also runs the caller's own statements in it (the outbox pattern's business write). The
 *   other ports' writes (a claim, a checkpoint) join it too.
 */
import { Context, Data, type DateTime, type Effect, type Option } from "effect"
import { batchContentProblem, type Correction } from "./Correction.ts"
import type { Event, EventId, RawPayload, RawPayloadId } from "./Event.ts"
import { eventsProblem, isCertainlyValid } from "./EventProblem.ts"
import { batchProblem } from "./StorableText.ts"
import {
  type AppendToStreamOptions,
  expectedRevisionProblem,
  type ReadStreamOptions,
  type StreamAppendResult,
  type StreamName,
  streamBatchProblem,
  streamNameProblem,
  type WrongExpectedRevisionError
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
  /**
   * The raw payload's id is the batch's idempotency key (a webhook's delivery id): when a raw
   * payload is already stored under it, nothing of the batch is appended and the result says
   * `redelivered`. Decided in the append itself, so of two concurrent appends of one id exactly
   * one appends. Needs a raw payload; `appendToStream` refuses it.
   */
  readonly once?: boolean
}

/**
 * Why no store may append `batch` (an event the `Event` schema refuses, an outbox row naming an event
 * the batch does not hold, or text PostgreSQL cannot store), or undefined: every store refuses the
 * same batches with the same words.
 */
export const appendBatchProblem = (batch: AppendBatch): string | undefined => {
  if (batch.outbox.length > 0) {
    const ids = new Set(batch.events.map((event) => event.event_id))
    const stray = batch.outbox.find((draft) => !ids.has(draft.event_id))
    if (stray !== undefined)
      return `outbox row for route ${stray.route} names event ${stray.event_id}, which is not in the batch`
  }
  if (batch.once === true && batch.raw === null) return "once: the batch has no raw payload to key on"
  // Events the direct check accepts are valid and hold only storable text: checked once, not
  // walked again for text and then for the schema (a fetch of broker messages runs this per message).
  if (batch.events.every(isCertainlyValid))
    return batchProblem(batch, { events: false }) ?? batchContentProblem(batch.events)
  return batchProblem(batch) ?? eventsProblem(batch.events) ?? batchContentProblem(batch.events)
}

/** Why `appendToStream` refuses `batch` beyond `appendBatchProblem`, or undefined. */
export const streamOnceProblem = (batch: AppendBatch): string | undefined =>
  batch.once === true ? "once: only append and appendAll can skip a stored raw payload's batch" : undefined

/**
 * Why a store refuses `appendToStream(stream, batch, { expectedRevision: expected })` before it reads
 * anything, beyond `appendBatchProblem`, or undefined: every store runs this one check.
 */
export const appendToStreamProblem = (stream: StreamName, batch: AppendBatch, expected: unknown): string | undefined =>
  streamNameProblem(stream) ??
  streamOnceProblem(batch) ??
  expectedRevisionProblem(expected) ??
  streamBatchProblem(stream, batch.events)

/** `append`'s report on a batch appended `once` whose raw payload was already stored. */
export const redeliveredResult: AppendResult = {
  appended: [],
  duplicates: [],
  corrected: [],
  outdated: [],
  outboxRows: 0,
  redelivered: true
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
  readonly outboxRows: number
  /** True when the batch was appended `once` and its raw payload was already stored: nothing appended. */
  readonly redelivered?: boolean
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

export class EventStore extends Context.Service<
  EventStore,
  {
    readonly append: (batch: AppendBatch) => Effect.Effect<AppendResult, StoreError>
    /**
     * Appends `batches` in order, atomically (all of them or none): each result is what `append`
     * of that batch would report after the batches before it. For many raw payloads at once (a
     * fetch of broker messages): a SQL store writes them with one statement, not one per batch.
     */
    readonly appendAll: (batches: ReadonlyArray<AppendBatch>) => Effect.Effect<ReadonlyArray<AppendResult>, StoreError>
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
    readonly getEvent: (id: EventId) => Effect.Effect<Option.Option<StoredEvent>, StoreError>
    /** Events in position order, after `after` (exclusive; 0 for the start). */
    readonly readEvents: (after: number, limit: number) => Effect.Effect<ReadonlyArray<StoredEvent>, StoreError>
    readonly getRaw: (id: RawPayloadId) => Effect.Effect<Option.Option<RawPayload>, StoreError>
  }
>()("sluice/EventStore") {}
