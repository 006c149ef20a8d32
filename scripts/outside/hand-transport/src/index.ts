/**
 * `my-transport`: a transport plugin that logs each event it is handed and reports it delivered.
 */
import { delivered, Plugin, type Transport } from "@sluice/core"
import { Effect, Schema } from "effect"

export const MyTransport = Plugin.define({
  name: "my-transport",
  kind: "transport",
  config: Schema.Struct({ label: Schema.optionalKey(Schema.String) }),
  make: (config, instance) =>
    Effect.succeed<Transport>({
      name: instance,
      publish: (envelopes) =>
        Effect.forEach(envelopes, (envelope) =>
          Effect.as(
            Effect.logInfo(`${config.label ?? instance}: ${envelope.event.event_type} ${envelope.event.event_id}`),
            delivered
          )
        )
    })
})
