/**
 * A memory store whose appends can be made to fail: what a lost database looks like to ingest
 * (acknowledging only what committed, releasing what did not).
 */
import { Effect, Layer, Ref } from "effect"
import { EventStore, StoreError } from "../EventStore.ts"
import { layerMemory } from "../MemoryEventStore.ts"

/**
 * `layerMemory` whose `append` and `appendAll` fail with a retryable StoreError while `failing`
 * holds; everything else works.
 */
export const layerMemoryFailingAppends = (failing: Ref.Ref<boolean>) =>
  Layer.effect(
    EventStore,
    Effect.gen(function* () {
      const store = yield* EventStore
      const down = new StoreError({ operation: "append", reason: "database down", retryable: true })
      return EventStore.of({
        ...store,
        append: (batch) => Effect.flatMap(Ref.get(failing), (fail) => (fail ? Effect.fail(down) : store.append(batch))),
        appendAll: (batches) =>
          Effect.flatMap(Ref.get(failing), (fail) => (fail ? Effect.fail(down) : store.appendAll(batches)))
      })
    })
  ).pipe(Layer.provideMerge(layerMemory))
