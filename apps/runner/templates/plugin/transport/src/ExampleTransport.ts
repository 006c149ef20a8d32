/**
 * The transport: POSTs each event as JSON to `url`, one request per envelope, in order, with the
 * event id in the `webhook-id` header so the receiver can deduplicate (delivery is at least once).
 * To send somewhere else (a queue, a database, an SDK), replace `post` and `outcomeOf`; keep what
 * the relay relies on: one outcome per envelope, nothing started after `context.deadline`, waits
 * cut at it, and `context.sending` called before each request.
 */
import {
  delivered,
  type Envelope,
  encodeEvent,
  notSent,
  type PublishContext,
  type PublishOutcome,
  permanent,
  retryable,
  type Transport
} from "@sluice/core"
import { Clock, Effect, Schema } from "effect"

const isHttpUrl = (text: string): boolean => URL.canParse(text) && ["http:", "https:"].includes(new URL(text).protocol)

/** The transport's options: what a sluice config file writes under `options`. */
export const ExampleTransportConfig = Schema.Struct({
  /** Where events are POSTed. */
  url: Schema.String.pipe(Schema.check(Schema.makeFilter(isHttpUrl, { expected: "an http:// or https:// URL" })))
})
export type ExampleTransportConfig = typeof ExampleTransportConfig.Type

/** What the receiver answered: its status and the start of its body. */
interface Answer {
  readonly status: number
  readonly body: string
}

/** One request. Interrupting the effect aborts it (the signal), which is how the deadline cuts it. */
const post = (url: string, envelope: Envelope): Effect.Effect<Answer, Error> =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", "webhook-id": envelope.event.event_id },
        body: JSON.stringify({
          route: envelope.route,
          topic: envelope.topic,
          attempt: envelope.attempt,
          event: encodeEvent(envelope.event)
        }),
        redirect: "manual",
        signal
      })
      return { status: response.status, body: (await response.text()).slice(0, 200) }
    },
    catch: (cause) => (cause instanceof Error ? cause : new Error(String(cause)))
  })

/** 2xx is delivered; 408, 429 and 5xx may work later; any other status never will. */
const outcomeOf = ({ status, body }: Answer): PublishOutcome => {
  if (status >= 200 && status < 300) return delivered
  const reason = `HTTP ${status}${body === "" ? "" : `: ${body}`}`
  return status === 408 || status === 429 || status >= 500 ? retryable(reason) : permanent(reason)
}

/** Builds the transport instance named `name` (the name routes refer to). */
export const make = (config: ExampleTransportConfig, name: string): Effect.Effect<Transport> =>
  Effect.sync(() => {
    const publishOne = (envelope: Envelope, context: PublishContext): Effect.Effect<PublishOutcome> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const left = context.deadline - now
        // The relay stopped waiting: the receiver cannot have this event, so no attempt counts.
        if (left <= 0) return Effect.succeed(notSent("the publish deadline passed before this event was sent"))
        context.sending([envelope])
        return post(config.url, envelope).pipe(
          Effect.map(outcomeOf),
          Effect.catch((error) => Effect.succeed(retryable(`request failed: ${error.message}`))),
          // Sent but unanswered: the receiver may have it, so the attempt counts (Retryable).
          Effect.timeoutOrElse({
            duration: left,
            orElse: () => Effect.succeed(retryable("no answer by the publish deadline"))
          })
        )
      })
    return {
      name,
      reportsSending: true,
      publish: (envelopes, context) => Effect.forEach(envelopes, (envelope) => publishOne(envelope, context))
    }
  })
