/**
 * The registry of push sources a plugin layer declared: their names and options. A push source is
 * not polled; whoever serves HTTP (the runner) reads this registry once the store is open, builds
 * each handler with `makePushHandler` and listens where the options say.
 */
import type { Source } from "@sluice/core"
import { Context, Effect, Layer } from "effect"
import type { PushSourceConfig } from "./PushConfig.ts"

/** One declared push source. */
export interface PushEndpoint {
  readonly source: Source
  readonly config: PushSourceConfig
}

export class PushEndpoints extends Context.Service<
  PushEndpoints,
  {
    readonly register: (endpoint: PushEndpoint) => Effect.Effect<void>
    readonly all: Effect.Effect<ReadonlyArray<PushEndpoint>>
  }
>()("@sluice/source-http/PushEndpoints") {
  /** An empty registry that the plugin's layers fill. */
  static readonly layer: Layer.Layer<PushEndpoints> = Layer.sync(PushEndpoints, () => {
    const byName = new Map<string, PushEndpoint>()
    return PushEndpoints.of({
      register: (endpoint) => Effect.sync(() => void byName.set(endpoint.source.name, endpoint)),
      all: Effect.sync(() => [...byName.values()])
    })
  })
}
