/**
 * The push source as a plugin (`sources[].plugin: "@sluice/source-http"`, alias `push`): it
 * registers a Source (so `sluice rederive` can transform its stored payloads again) and declares
 * the endpoint in `PushEndpoints`, which the runner serves. The Source is never fetched: the runner
 * does not poll push sources, and a fetch says why.
 */
import { Plugin, type Source, SourceError } from "@sluice/core"
import { Effect } from "effect"
import { transformer, withDeliveryKeys } from "./GenericJson.ts"
import { PushSourceConfig } from "./PushConfig.ts"
import { PushEndpoints } from "./PushEndpoints.ts"

/** Builds the source named `instance` and declares its endpoint in `PushEndpoints`. */
export const make = (config: PushSourceConfig, instance: string): Effect.Effect<Source, never, PushEndpoints> =>
  Effect.gen(function* () {
    const source = {
      name: instance,
      // Keyed as the handler keys them, so `sluice rederive` gives the delivered events' ids.
      transform: withDeliveryKeys(transformer(config.format)),
      fetch: Effect.fail(
        new SourceError({
          source: instance,
          reason: "a push source is not fetched: it is served over HTTP",
          retryable: false
        })
      )
    }
    yield* (yield* PushEndpoints).register({ source, config })
    return source
  })

export const PushSourcePlugin = Plugin.define({
  name: "@sluice/source-http",
  kind: "source",
  config: PushSourceConfig,
  make
})
