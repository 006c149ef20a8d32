/**
 * The upcasters an application registers (Upcaster.ts), as a service with a default of none: code
 * that provides no `Upcasters.layer` reads every event as stored. With upcasters, these read an
 * event at its type's latest version:
 * - `readStream`, `readEvents` and `getEvent` here (the store's own reads return events as stored);
 * - `CommandHandler` (its fold), subscriptions and projections (`Subscription`, `Projection`);
 * - the relay, per route: `publish: "latest"` (see Route); "stored", the default, publishes as stored.
 * The stored row is never rewritten. An upcaster that fails gives an UpcastError naming the event.
 */
import { Context, Effect, Layer, Option, Result, type Schema } from "effect"
import type { Event, EventId } from "./Event.ts"
import { EventStore, type StoredEvent, type StoreError } from "./EventStore.ts"
import { InvalidSettingError } from "./InvalidSetting.ts"
import type { ReadStreamOptions, StreamName } from "./Stream.ts"
import { UpcastError, type Upcaster } from "./Upcaster.ts"

/** The registered upcasters, by event type and version. */
export interface Registry {
  /** True when no upcaster is registered: every read is as stored, at no cost. */
  readonly isEmpty: boolean
  /** The latest version of `event_type`, when it has upcasters. */
  readonly latest: (event_type: string) => number | undefined
  /** `event` at its type's latest version (itself when it is there already, or newer). */
  readonly upcast: (event: Event) => Result.Result<Event, UpcastError>
  /**
   * Why `payload` is not a valid payload of `event_type` at its latest version, or undefined when it
   * is, or when that is not known: the type has no upcasters, or its last one has no target schema
   * (`Upcaster.fromFunction`).
   */
  readonly latestPayloadProblem: (event_type: string, payload: Schema.Json) => string | undefined
}

const none: Registry = {
  isEmpty: true,
  latest: () => undefined,
  latestPayloadProblem: () => undefined,
  upcast: Result.succeed
}

/**
 * A registry of `upcasters`. Throws InvalidSettingError when two upcasters read the same type and version,
 * or when a type's versions have a gap (1 -> 2 and 3 -> 4 without 2 -> 3): an event stored at a
 * version without a chain to the latest could not be read.
 */
export const make = (upcasters: ReadonlyArray<Upcaster>): Registry => {
  if (upcasters.length === 0) return none
  const byType = new Map<string, Map<number, Upcaster>>()
  for (const upcaster of upcasters) {
    const what = `upcaster of ${JSON.stringify(upcaster.event_type)} from version ${upcaster.from}`
    if (!(Number.isSafeInteger(upcaster.from) && upcaster.from >= 1))
      throw new InvalidSettingError({ owner: "Upcasters", setting: "from", reason: `${what}: not an integer >= 1` })
    const versions = byType.get(upcaster.event_type) ?? new Map<number, Upcaster>()
    if (versions.has(upcaster.from))
      throw new InvalidSettingError({ owner: "Upcasters", setting: "from", reason: `${what}: registered twice` })
    versions.set(upcaster.from, upcaster)
    byType.set(upcaster.event_type, versions)
  }
  const chains = new Map<
    string,
    { readonly first: number; readonly latest: number; readonly steps: Map<number, Upcaster> }
  >()
  for (const [type, steps] of byType) {
    const first = Math.min(...steps.keys())
    const latest = Math.max(...steps.keys()) + 1
    for (let version = first; version < latest; version++) {
      if (!steps.has(version)) {
        throw new InvalidSettingError({
          owner: "Upcasters",
          setting: "from",
          reason: `${JSON.stringify(type)} has upcasters from ${first} to ${latest} but none from version ${version}`
        })
      }
    }
    chains.set(type, { first, latest, steps })
  }
  return {
    isEmpty: false,
    latest: (type) => chains.get(type)?.latest,
    latestPayloadProblem: (type, payload) => {
      const chain = chains.get(type)
      return chain === undefined ? undefined : chain.steps.get(chain.latest - 1)!.checkTarget?.(payload)
    },
    upcast: (event) => {
      const chain = chains.get(event.event_type)
      if (chain === undefined || event.schema_version >= chain.latest) return Result.succeed(event)
      const failure = (fromVersion: number, reason: string) =>
        Result.fail(
          new UpcastError({
            eventId: event.event_id,
            eventType: event.event_type,
            storedVersion: event.schema_version,
            fromVersion,
            toVersion: chain.latest,
            reason
          })
        )
      if (event.schema_version < chain.first)
        return failure(event.schema_version, `no upcaster from version ${event.schema_version}`)
      let payload = event.payload
      for (let version = event.schema_version; version < chain.latest; version++) {
        const step = chain.steps.get(version)!.upcast(payload)
        if (Result.isFailure(step)) return failure(version, step.failure)
        payload = step.success
      }
      return Result.succeed({ ...event, schema_version: chain.latest, payload })
    }
  }
}

/** The registered upcasters; none unless a layer provides some. */
export const Upcasters = Context.Reference<Registry>("sluice/Upcasters", { defaultValue: () => none })

/** Registers `upcasters` for the effects it is provided to (dies with an InvalidSettingError, see `make`). */
export const layer = (upcasters: ReadonlyArray<Upcaster>): Layer.Layer<never> =>
  Layer.sync(Upcasters, () => make(upcasters))

/** `event` at its type's latest version, with the current upcasters. */
export const upcast = (event: Event): Effect.Effect<Event, UpcastError> =>
  Effect.gen(function* () {
    return yield* Effect.fromResult((yield* Upcasters).upcast(event))
  })

/** A stored event with its event upcast (the same object when nothing changed). */
const upcastStored = <S extends StoredEvent>(registry: Registry, stored: S): Result.Result<S, UpcastError> => {
  const result = registry.upcast(stored.event)
  if (Result.isFailure(result)) return Result.fail(result.failure)
  return Result.succeed(result.success === stored.event ? stored : { ...stored, event: result.success })
}

/** Upcasts each stored event with `registry`, failing with the first UpcastError. */
export const upcastAll = <S extends StoredEvent>(
  registry: Registry,
  events: ReadonlyArray<S>
): Result.Result<ReadonlyArray<S>, UpcastError> => {
  if (registry.isEmpty) return Result.succeed(events)
  const out: Array<S> = []
  for (const stored of events) {
    const result = upcastStored(registry, stored)
    if (Result.isFailure(result)) return Result.fail(result.failure)
    out.push(result.success)
  }
  return Result.succeed(out)
}

/** Upcasts each stored event with the current upcasters. */
export const upcastStoredEvents = <S extends StoredEvent>(
  events: ReadonlyArray<S>
): Effect.Effect<ReadonlyArray<S>, UpcastError> =>
  Effect.gen(function* () {
    return yield* Effect.fromResult(upcastAll(yield* Upcasters, events))
  })

/** `EventStore.readStream`, each event at its latest version. */
export const readStream = (
  stream: StreamName,
  options?: ReadStreamOptions
): Effect.Effect<ReadonlyArray<StoredEvent>, StoreError | UpcastError, EventStore> =>
  Effect.flatMap(
    EventStore.use((store) => store.readStream(stream, options)),
    upcastStoredEvents
  )

/** `EventStore.readEvents`, each event at its latest version. */
export const readEvents = (
  after: number,
  limit: number
): Effect.Effect<ReadonlyArray<StoredEvent>, StoreError | UpcastError, EventStore> =>
  Effect.flatMap(
    EventStore.use((store) => store.readEvents(after, limit)),
    upcastStoredEvents
  )

/** `EventStore.getEvent`, the event at its latest version. */
export const getEvent = (
  id: EventId
): Effect.Effect<Option.Option<StoredEvent>, StoreError | UpcastError, EventStore> =>
  Effect.gen(function* () {
    const found = yield* EventStore.use((store) => store.getEvent(id))
    if (Option.isNone(found)) return found
    const [stored] = yield* upcastStoredEvents([found.value])
    return Option.some(stored!)
  })
