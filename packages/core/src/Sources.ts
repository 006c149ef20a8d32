/**
 * The registry of source instances, by name, that source plugins register into and the runner
 * schedules from.
 */
import { Context, Effect, Layer } from "effect"
import type { Source } from "./Source.ts"

export class Sources extends Context.Service<
  Sources,
  {
    readonly register: (source: Source) => Effect.Effect<void>
    readonly all: Effect.Effect<ReadonlyArray<Source>>
  }
>()("sluice/Sources") {
  /** An empty registry that plugins' layers fill. */
  static readonly layer: Layer.Layer<Sources> = Layer.sync(Sources, () => {
    const byName = new Map<string, Source>()
    return Sources.of({
      register: (source) => Effect.sync(() => void byName.set(source.name, source)),
      all: Effect.sync(() => [...byName.values()])
    })
  })
}
