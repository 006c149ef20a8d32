/**
 * The RawPayloadStore port: reading back stored raw payloads of a source (for re-derivation,
 * Rederive.ts) and recording that a payload's transform error was resolved. Raw payloads are
 * immutable: their `transform_error` keeps saying what failed at the time, and a resolution is
 * recorded beside it (the audit keeps both).
 *
 * Contract (RawPayloadContract.ts, run by every adapter): `readRaw` returns a source's payloads (or
 * every source's), only the unresolved failed ones when `failed`, received at or after `since`, in raw
 * id order (UUIDv7: the order they were stored in), after the `after` id, at most `limit`; `resolve` is idempotent and commits or rolls back with the
 * transaction it runs in. `pruneRaw` (opt-in retention) deletes payloads received before the policy's
 * age, in batches, and refuses, deleting nothing, while any of them has an event with a pending
 * outbox row; events stay (immutable), and keep naming their raw id.
 */
import { Context, type DateTime, type Effect } from "effect"
import type { RawPayload, RawPayloadId, TraceId } from "./Event.ts"
import type { StoreError } from "./EventStore.ts"
import type { RawPayloadsPendingError, RawPruneReport, RawRetentionPolicy, RetentionPolicyError } from "./Retention.ts"

/** A stored raw payload, and when its transform error was resolved (null: never, or it had none). */
export interface StoredRaw {
  readonly raw: RawPayload
  readonly resolved_at: DateTime.Utc | null
}

export interface RawPage {
  /** Only this source's payloads (every source's when absent). */
  readonly source?: string
  /** Only payloads whose transform failed (in whole or in part) and that no re-derivation resolved. */
  readonly failed?: boolean
  /** Only payloads received at or after this time. */
  readonly since?: DateTime.Utc
  /** Only payloads whose id is greater (the last id of the previous page). */
  readonly after?: RawPayloadId
  readonly limit: number
}

export class RawPayloadStore extends Context.Service<
  RawPayloadStore,
  {
    readonly readRaw: (page: RawPage) => Effect.Effect<ReadonlyArray<StoredRaw>, StoreError>
    /** Records that `raw_id`'s transform error no longer holds (by the re-derivation `trace_id`). */
    readonly resolve: (rawId: RawPayloadId, traceId: TraceId) => Effect.Effect<void, StoreError>
    /**
     * Deletes raw payloads received longer ago than `policy.olderThan` (with their resolutions), in
     * batches of their own transactions; on a dry run only counts them. Fails with
     * RawPayloadsPendingError, deleting nothing, when one of them has an event whose outbox row is
     * still pending (its delivery may yet need a re-derivation from it). Their events stay, as do
     * the payloads' ids in them: re-derivation then skips what it cannot read.
     */
    readonly pruneRaw: (
      policy: RawRetentionPolicy
    ) => Effect.Effect<RawPruneReport, StoreError | RetentionPolicyError | RawPayloadsPendingError>
  }
>()("sluice/RawPayloadStore") {}
