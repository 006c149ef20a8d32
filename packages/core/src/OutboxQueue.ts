/**
 * The OutboxQueue port: what a relay needs from the store, and nothing else. It hands out due
 * outbox rows under a lease, takes back the relay's results, and says when there may be work. The
 * rows come from `EventStore.append`; the state machine a row follows is Outbox.ts, applied only by
 * the store. (Named for its users: `Outbox` is the module of that state machine and its entries;
 * operators' reads and repairs of the outbox are the OutboxAdmin port.)
 *
 * Contract (every adapter runs `OutboxQueueContract` in `@sluice/core/testing`):
 * - `claim` leases up to `limit` due pending rows in (next_attempt_at, append order) order, never a
 *   row leased by someone else; on an ordered route it never hands out an entity's row while an
 *   earlier row of that entity on that route is still pending. Nothing an open transaction appended
 *   is claimed before it commits.
 * - `complete` applies results in bulk; a result whose lease token is not the row's current,
 *   unexpired token is rejected (fencing), and reported as such, never applied.
 * - `waitForWork` returns when rows may have become claimable (see below) or after `maxWait`.
 */
import { Context, Data, type Duration, type Effect } from "effect"
import type { Event } from "./Event.ts"
import type { StoreError } from "./EventStore.ts"
import type { OutboxEntry, OutboxId } from "./Outbox.ts"

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
  Delivered: { readonly outboxId: OutboxId; readonly token: string }
  /**
   * Try again after `delayMs`, counted by the store's clock from when it records the result (not
   * an absolute time from the relay's clock: relays on hosts with skewed clocks would otherwise
   * shorten or stretch every backoff).
   */
  Retry: {
    readonly outboxId: OutboxId
    readonly token: string
    readonly error: string
    readonly delayMs: number
  }
  Dead: { readonly outboxId: OutboxId; readonly token: string; readonly error: string }
  /** Give the row back without counting an attempt (graceful shutdown). */
  Release: { readonly outboxId: OutboxId; readonly token: string }
}>
export const Completion = Data.taggedEnum<Completion>()

export interface CompletionReport {
  readonly applied: ReadonlyArray<OutboxId>
  /** Results refused because the lease was stale (expired, or the row was claimed again) or the row was no longer pending. */
  readonly rejected: ReadonlyArray<OutboxId>
}

export class OutboxQueue extends Context.Service<
  OutboxQueue,
  {
    readonly claim: (options: ClaimOptions) => Effect.Effect<ReadonlyArray<Claimed>, StoreError>
    readonly complete: (results: ReadonlyArray<Completion>) => Effect.Effect<CompletionReport, StoreError>
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
>()("sluice/OutboxQueue") {}
