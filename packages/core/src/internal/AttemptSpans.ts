/**
 * The relay's per-event spans: with `EventTrace.TraceEvents` on, one `sluice.relay.attempt` span per
 * envelope over its publish, in the event's trace, ended with the envelope's outcome. Off (the
 * default), nothing is created: a span per row costs the relay's throughput.
 */
import { Cause, Clock, Effect, Exit, type Tracer } from "effect"
import * as EventTrace from "../EventTrace.ts"
import type { Envelope, PublishContext, PublishOutcome } from "../Transport.ts"

export const withAttemptSpans = <E, R>(
  envelopes: ReadonlyArray<Envelope>,
  publish: (spanOf: PublishContext["spanOf"]) => Effect.Effect<ReadonlyArray<PublishOutcome>, E, R>
): Effect.Effect<ReadonlyArray<PublishOutcome>, E, R> =>
  Effect.gen(function* () {
    if (!(yield* EventTrace.TraceEvents)) return yield* publish(undefined)
    const spans = new Map<string, Tracer.Span>()
    for (const envelope of envelopes) {
      const event = envelope.event
      const span = yield* Effect.makeSpan("sluice.relay.attempt", {
        parent: EventTrace.parentOf(event.trace_id),
        kind: "producer",
        attributes: {
          "sluice.event_id": event.event_id,
          "sluice.event_type": event.event_type,
          "sluice.route": envelope.route,
          "sluice.topic": envelope.topic,
          "sluice.attempt": envelope.attempt
        }
      })
      spans.set(envelope.outbox_id, span)
    }
    return yield* publish((envelope) => spans.get(envelope.outbox_id)).pipe(
      Effect.onExit((exit) =>
        Effect.map(Clock.currentTimeNanos, (now) => {
          for (const [i, envelope] of envelopes.entries()) {
            const span = spans.get(envelope.outbox_id)!
            const outcome = Exit.isSuccess(exit) ? exit.value[i] : undefined
            span.attribute("sluice.outcome", outcome?._tag ?? "Interrupted")
            span.end(
              now,
              outcome === undefined
                ? Exit.failCause(Cause.interrupt())
                : outcome._tag === "Delivered"
                  ? Exit.void
                  : Exit.fail(outcome.error)
            )
          }
        })
      )
    )
  })
