/**
 * The Transport port: publishes envelopes and reports one outcome per envelope.
 *
 * Contract (checked by the transport contract suite in `@sluice/core/testing`):
 * - `publish` returns exactly one outcome per envelope, in the envelopes' order; it never fails:
 *   every failure is an outcome, so the relay can record it against the right row.
 * - `Delivered` means the receiver accepted the event; `Retryable` means try again later (optionally
 *   not before `retryAfter`); `Permanent` means retrying cannot help and the row is dead-lettered;
 *   `NotSent` means the transport did not try (e.g. the publish deadline came first): the row goes
 *   back to pending at once, with no attempt counted, unless no envelope of the publish was sent:
 *   then each counts as a retryable attempt, so a row cannot be claimed and released forever.
 * - Interruption is safe: an interrupted publish reports nothing. The relay then counts a failed
 *   attempt for each envelope that may have been sent (all of them, unless the transport reports
 *   what it sends through `PublishProgress`) and gives the others back with no attempt counted.
 * - The relay gives up on a publish at its publish timeout, and then counts every envelope as
 *   retryable, the delivered ones too (they would be sent again). A transport that sends in several
 *   steps should read `PublishDeadline` and return what it has before then, `NotSent` for what it
 *   did not start.
 * - Every delivery carries the event id (header, message id...) so receivers can deduplicate.
 */
import { Context, Data, type Duration, type Effect } from "effect"
import type { Event } from "./Event.ts"
import type { OutboxId } from "./Outbox.ts"

/** One event on its way to one route. */
export interface Envelope {
  readonly outbox_id: OutboxId
  readonly event: Event
  readonly route: string
  readonly topic: string
  /** 1 for the first attempt. */
  readonly attempt: number
}

export type PublishOutcome = Data.TaggedEnum<{
  Delivered: {}
  Retryable: { readonly error: string; readonly retryAfter: Duration.Duration | undefined }
  Permanent: { readonly error: string }
  NotSent: { readonly error: string }
}>
export const PublishOutcome = Data.taggedEnum<PublishOutcome>()

export const delivered: PublishOutcome = PublishOutcome.Delivered()
export const retryable = (error: string, retryAfter?: Duration.Duration): PublishOutcome =>
  PublishOutcome.Retryable({ error, retryAfter })
export const permanent = (error: string): PublishOutcome => PublishOutcome.Permanent({ error })
export const notSent = (error: string): PublishOutcome => PublishOutcome.NotSent({ error })

/**
 * When the relay stops waiting for the `publish` in progress (Clock millis; null outside a relay).
 * A transport that sends in several requests should start none once it has passed (`NotSent` for
 * those), cut the wait for the answers in flight to it, and return every outcome: the envelopes
 * already delivered are then recorded as delivered instead of being sent again. The relay sets it a
 * little before its own timeout, which stays the backstop for transports that ignore it.
 */
export const PublishDeadline = Context.Reference<number | null>("sluice/PublishDeadline", {
  defaultValue: () => null
})

/** What the relay provides as `PublishProgress`. */
export interface PublishProgressShape {
  /** Called just before a request carrying `envelopes` goes out. */
  readonly sending: (envelopes: ReadonlyArray<Envelope>) => void
}

/**
 * Where a transport that sends in several steps says what it is about to send (null outside a
 * relay). If the publish is then interrupted (a shutdown at the end of the grace period), only the
 * envelopes reported here count a failed attempt; the others go back to pending with none. Only
 * read for transports that set `reportsSending`.
 */
export const PublishProgress = Context.Reference<PublishProgressShape | null>("sluice/PublishProgress", {
  defaultValue: () => null
})

export interface Transport {
  /** The instance name routes refer to. */
  readonly name: string
  /**
   * Whether `publish` reports every request through `PublishProgress` before sending it. When not,
   * an interrupted publish counts an attempt for each of its envelopes. @default false
   */
  readonly reportsSending?: boolean
  /** Publishes a batch (an empty one yields no outcomes and sends nothing); see the contract above. */
  readonly publish: (envelopes: ReadonlyArray<Envelope>) => Effect.Effect<ReadonlyArray<PublishOutcome>>
}
