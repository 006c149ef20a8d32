/**
 * `my-transport`: a transport plugin that POSTs each event as JSON (`{ route, topic, attempt, event }`,
 * like the scaffold's template) to `url`, with its id in the `webhook-id` header; a 2xx answer is
 * delivered, anything else is retried.
 */
import { delivered, encodeEvent, Plugin, retryable, type Transport } from "@sluice/core"
import { Effect, Schema } from "effect"

export const MyTransport = Plugin.define({
  name: "my-transport",
  kind: "transport",
  config: Schema.Struct({ url: Schema.String }),
  make: (config, instance) =>
    Effect.succeed<Transport>({
      name: instance,
      publish: (envelopes) =>
        Effect.forEach(envelopes, (envelope) =>
          Effect.tryPromise(() =>
            fetch(config.url, {
              method: "POST",
              headers: { "content-type": "application/json", "webhook-id": envelope.event.event_id },
              body: JSON.stringify({
                route: envelope.route,
                topic: envelope.topic,
                attempt: envelope.attempt,
                event: encodeEvent(envelope.event)
              })
            })
          ).pipe(
            Effect.map((response) => (response.ok ? delivered : retryable(`HTTP ${response.status}`))),
            Effect.catch((error) => Effect.succeed(retryable(error.message)))
          )
        )
    })
})
