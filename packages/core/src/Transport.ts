/**
 * The Transport port: publishes envelopes and reports one outcome per envelope.
 *
 * Contract (checked by the transport contract suite in `@sluice/core/testing`):
 * - `publish(envelopes, context)` returns exactly one outcome per envelope, in the envelopes' order;
 *   it never fails: every failure is an outcome, so the relay can record it against the right row.
 * - `Delivered` means the receiver accepted the event; `Retryable` means try again later (optionally
 *   not before `retryAfter`); `Permanent` means retrying cannot help and the row is dead-lettered;
 *   `NotSent` means the transport did not try this envelope (e.g. `context.deadline` came first), so
 *   the receiver cannot have it. What the relay does with each outcome is in RelayBatch.ts.
 * - `context.deadline` is when the caller stops waiting. A transport should start nothing once it has
 *   passed (`NotSent` for those), cut its waits for answers at it (`Retryable`: the receiver may
 *   have the event) and return every outcome, so what it delivered counts as delivered. A transport
 *   that ignores it is still correct: the relay's publish timeout is the backstop, and then counts
 *   every envelope of the publish as retryable, the delivered ones too (they are sent again).
 * - Interruption is safe: an interrupted publish reports nothing. A transport that sets
 *   `reportsSending` calls `context.sending` before each request goes out, so the caller knows which
 *   envelopes the receiver may have; without it, every envelope of an interrupted publish may have
 *   been sent.
 * - Every delivery carries the event id (header, message id...) so receivers can deduplicate.
 */
import { Data, type Duration, type Effect, type Tracer } from "effect"
import type { Event } from "./Event.ts"
import type { OutboxId } from "./Outbox.ts"

/** One event on its way to one route. */
export interface Envelope {
  readonly outbox_id: OutboxId
  /**
   * A store may decode it when first read (the relay's envelopes pass it through as a getter):
   * a transport that does not need the event's fields should not read it.
   */
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

/** What the caller of `publish` (the relay) tells the transport about this publish. */
export interface PublishContext {
  /**
   * When the caller stops waiting for this publish (Clock millis, as `Clock.currentTimeMillis`);
   * `Infinity` when nothing bounds it. The relay sets it a little before its own publish timeout.
   */
  readonly deadline: number
  /**
   * Tells the caller that a request carrying `envelopes` is about to go out. Called before sending,
   * never after: if the publish is then interrupted (a shutdown at the end of its grace period), the
   * envelopes reported count a failed attempt and the others go back with none. Only read from
   * transports that set `reportsSending`; calling it more than once for an envelope is harmless.
   */
  readonly sending: (envelopes: ReadonlyArray<Envelope>) => void
  /**
   * The relay's span for this attempt at `envelope`, in the event's trace (EventTrace.ts), when the
   * relay records per-event spans: a transport makes its request's span a child of it (for a request
   * carrying several envelopes, of the first's) and sends that span's id in `traceparent`.
   */
  readonly spanOf?: (envelope: Envelope) => Tracer.AnySpan | undefined
}

/** A context for calling `publish` outside a relay (tests, scripts): no deadline, nothing recorded. */
export const noDeadline: PublishContext = { deadline: Number.POSITIVE_INFINITY, sending: () => {} }

export interface Transport {
  /** The instance name routes refer to. */
  readonly name: string
  /**
   * Whether `publish` calls `context.sending` before every request it sends. When not, an
   * interrupted publish counts an attempt for each of its envelopes. @default false
   */
  readonly reportsSending?: boolean
  /**
   * How long the receiver drops a second copy of an event id, when the transport knows it (a
   * JetStream stream's duplicate window). A resend after it is a duplicate at the receiver: the
   * `sluice` runner warns at start when a route's retries can outlast it. @default unknown
   */
  readonly duplicateWindow?: Duration.Duration | undefined
  /**
   * Publishes a batch (an empty one yields no outcomes and sends nothing); see the contract above.
   * A transport that needs nothing from `context` may leave the parameter out.
   */
  readonly publish: (
    envelopes: ReadonlyArray<Envelope>,
    context: PublishContext
  ) => Effect.Effect<ReadonlyArray<PublishOutcome>>
}
