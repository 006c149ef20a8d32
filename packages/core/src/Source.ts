/**
 * The Source port: a connector that fetches raw payloads from the outside world, and a transformer
 * that turns one raw payload into event drafts. The ingest pipeline (Ingest.ts) stores every raw
 * payload, completes drafts into canonical events and appends both atomically.
 */
import { Data, type DateTime, type Duration, type Effect } from "effect"
import type { RawPayload } from "./Event.ts"

/** One payload as the connector received it. */
export interface RawFetch {
  readonly content_type: string
  readonly body: string
  /** What was asked for, as JSON (URL, symbols, range...): kept with the payload for audit. */
  readonly request: unknown
  /**
   * What identifies this payload within its source, when the source can say (a JetStream stream and
   * sequence, a webhook id). The raw payload id is then a UUIDv5 of (source, key): a payload
   * delivered again (a redelivered message, a retried webhook) is stored once, and its events are
   * duplicates. Without it every fetch stores a new raw payload (a UUIDv7). @default none
   */
  readonly key?: string
}

/** A part of a fetch that failed while the rest succeeded (e.g. one unknown symbol of five). */
export interface FetchFailure {
  /** What failed, e.g. the symbol. */
  readonly subject: string
  readonly reason: string
  /** Whether trying again later could help (network, 5xx) or not (unknown symbol, 4xx). */
  readonly retryable: boolean
}

export interface FetchResult {
  readonly payloads: ReadonlyArray<RawFetch>
  readonly failures: ReadonlyArray<FetchFailure>
  /**
   * Run by the ingest pipeline once every payload of this fetch (and its events and outbox rows)
   * is committed, in one transaction: the moment a source may tell its origin that the data is
   * safe (ack a broker's messages, answer a webhook 2xx). Never run when storing failed, nor when
   * the tick is interrupted first: then the origin delivers again and `key`s and natural keys
   * make the second delivery a duplicate. A failure is logged and not retried (the data is
   * stored either way). @default nothing
   */
  readonly acknowledge?: Effect.Effect<void, SourceError>
  /**
   * Run instead of `acknowledge` when the fetch's payloads could not be stored (nothing of them
   * was committed), so the origin can deliver them again at once (nak) rather than after its own
   * timeout. @default nothing
   */
  readonly release?: Effect.Effect<void>
}

/**
 * The whole fetch failed. When `retryable`, the ingest loop backs off (the wait doubles per failed
 * tick); otherwise it logs the error and tries again at its normal interval.
 */
export class SourceError extends Data.TaggedError("SourceError")<{
  readonly source: string
  readonly reason: string
  readonly retryable: boolean
  readonly cause?: unknown
}> {
  override get message() {
    return `source ${this.source}: ${this.reason}`
  }
}

/** What a transformer says about an event; the pipeline adds ids, trace id and validation. */
export interface EventDraft {
  readonly event_type: string
  readonly entity_type: string
  readonly entity_id: string
  readonly occurred_at: DateTime.Utc
  readonly payload: unknown
  /** @default 1 */
  readonly schema_version?: number
  /**
   * What makes this event unique within its source (e.g. `AAPL@2026-01-02T15:30:00Z`). When given,
   * the event id is a UUIDv5 of (source, key) and re-fetching the same data creates no new event.
   */
  readonly natural_key?: string
}

export interface TransformResult {
  readonly events: ReadonlyArray<EventDraft>
  /** Parts of the payload that could not become events, each with a reason (kept on the raw row). */
  readonly issues: ReadonlyArray<string>
}

/** The payload as a whole could not be transformed; the raw payload is still stored with `reason`. */
export class TransformError extends Data.TaggedError("TransformError")<{
  readonly reason: string
  readonly cause?: unknown
}> {
  override get message() {
    return this.reason
  }
}

export interface Source {
  /** The instance name: part of every deterministic event id, so keep it stable. */
  readonly name: string
  readonly fetch: Effect.Effect<FetchResult, SourceError>
  readonly transform: (raw: RawPayload) => Effect.Effect<TransformResult, TransformError>
  /** How often the source wants to be ticked, when its own config says (a runner's schedule wins). */
  readonly pollInterval?: Duration.Duration
  /**
   * Whether `fetch` may run again before the previous fetch was acknowledged (its messages come
   * from a queue, not from a cursor its `acknowledge` moves). `Ingest.run` then takes and prepares
   * the next fetch while the previous one is appended, and appends it beside that one when the two
   * share no entity (else after it); each fetch is acknowledged after its own commit, in fetch
   * order. @default false
   */
  readonly pipelined?: boolean
}
