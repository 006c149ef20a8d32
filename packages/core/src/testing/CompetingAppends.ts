/**
 * A memory store where another writer wins the race for a stream: right before an append to the
 * stream (`appendToStream`), a competing event lands on it, so the revision the caller read is stale
 * and its append fails with WrongExpectedRevisionError. What a concurrent command does to a
 * CommandHandler between its read and its append, made to happen on demand in a unit test.
 */
import { Effect, Layer } from "effect"
import type { Event } from "../Event.ts"
import { EventStore } from "../EventStore.ts"
import { layerMemory } from "../MemoryEventStore.ts"
import type { StreamName } from "../Stream.ts"

export interface CompetingAppendsOptions {
  /** The competing writer's event for `stream` (on that stream's entity), e.g. with `makeEvent`. */
  readonly event: (stream: StreamName) => Event
  /** How many appends to each stream find a competing event before them. @default 1 */
  readonly times?: number
}

export interface CompetingAppends {
  /** The wrapped store. */
  readonly store: EventStore["Service"]
  /** How many competing events were appended so far, over all streams. */
  readonly competed: Effect.Effect<number>
}

const keyOf = (stream: StreamName) => `${stream.entity_type}\u0000${stream.entity_id}`

/** `store` with a competing writer before each stream's first `times` appends (`appendToStream`). */
export const makeCompetingAppends = (
  store: EventStore["Service"],
  options: CompetingAppendsOptions
): CompetingAppends => {
  const times = options.times ?? 1
  const perStream = new Map<string, number>()
  let competed = 0
  const compete = (stream: StreamName) =>
    Effect.suspend(() => {
      const key = keyOf(stream)
      const done = perStream.get(key) ?? 0
      if (done >= times) return Effect.void
      perStream.set(key, done + 1)
      competed++
      return Effect.asVoid(store.append({ raw: null, events: [options.event(stream)], outbox: [] }))
    })
  return {
    store: EventStore.of({
      ...store,
      appendToStream: (stream, batch, appendOptions) =>
        Effect.andThen(compete(stream), store.appendToStream(stream, batch, appendOptions))
    }),
    competed: Effect.sync(() => competed)
  }
}

/**
 * `layerMemory` whose EventStore has a competing writer (`makeCompetingAppends`); `competed` counts
 * the competing events of the layer's latest build.
 */
export const layerMemoryCompetingAppends = (options: CompetingAppendsOptions) => {
  let latest: CompetingAppends | undefined
  const layer = Layer.effect(
    EventStore,
    Effect.gen(function* () {
      latest = makeCompetingAppends(yield* EventStore, options)
      return latest.store
    })
  ).pipe(Layer.provideMerge(layerMemory))
  return { layer, competed: Effect.suspend(() => latest?.competed ?? Effect.succeed(0)) }
}
