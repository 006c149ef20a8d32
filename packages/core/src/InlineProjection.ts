/**
 * Inline projections: read models updated inside the append's transaction (Marten's inline
 * projections), so the read model and the events commit or roll back together. `layer` decorates
 * the EventStore: every append path (`append`, `appendToStream`, the command handler, ingestion)
 * then runs the projections over the events it newly stored, in the same `EventStore.transaction`.
 * A SQL store runs the projection's statements in that transaction (the caller's SqlClient joins
 * it); on the memory store only the events are undone on a rollback, not a handler's own writes.
 *
 * - Only events newly stored go to the projections: a duplicate (an id already stored) does not.
 * - Events are upcast to their latest version (Upcasters.ts) before a projection sees them.
 * - A projection that fails (or an upcaster) fails the append, which writes nothing; the error is a
 *   StoreError (the port's) whose `cause` is the projection's error. A StoreError from the
 *   projection itself (e.g. a lost connection) comes back as it is.
 * - An append with no event of a projection's types runs as before, with no transaction of its own.
 * - Inside a transaction, the SQL store cannot retry an append that raced a concurrent one (the
 *   failed statement aborted the transaction): the decorator starts its own transaction over
 *   instead, up to 3 times, when the append (not the projection) failed retryably.
 */
import { Context, Data, Effect, Layer, Result } from "effect"
import type { Event } from "./Event.ts"
import { type AppendBatch, type AppendResult, EventStore, StoreError } from "./EventStore.ts"
import { Upcasters } from "./Upcasters.ts"

export interface InlineProjection<E, R> {
  /** Names the projection in errors and spans. */
  readonly name: string
  /** The event types it applies; it never sees the others. @default every type */
  readonly eventTypes?: ReadonlyArray<string>
  /** Applies one newly stored event (at its latest version), inside the append's transaction. */
  readonly apply: (event: Event) => Effect.Effect<void, E, R>
}

/** An inline projection, its types inferred. */
export const make = <E, R>(projection: InlineProjection<E, R>): InlineProjection<E, R> => projection

/** What the projections of `P` need from the context. */
export type Requirements<P extends ReadonlyArray<InlineProjection<unknown, unknown>>> = P[number] extends infer Q
  ? Q extends InlineProjection<unknown, infer R>
    ? R
    : never
  : never

/** The append's own failure, told apart from the projections' and the commit's. */
class AppendFailed<E> extends Data.TaggedError("AppendFailed")<{ readonly error: E }> {}

/** How many times a transaction whose append raced another starts over. */
const raceRetries = 3

/** The events of `batch` that `result` says were newly stored (each once, in batch order). */
const newlyStored = (events: ReadonlyArray<Event>, result: AppendResult): ReadonlyArray<Event> => {
  if (result.duplicates.length === 0 && result.appended.length === events.length) return events
  const left = new Set<string>(result.appended)
  return events.filter((event) => left.delete(event.event_id))
}

const asStoreError =
  (name: string) =>
  (error: unknown): StoreError =>
    error instanceof StoreError
      ? error
      : new StoreError({
          operation: `inline projection ${name}`,
          reason: error instanceof Error ? error.message : String(error),
          retryable: false,
          cause: error
        })

/**
 * `store` with `projections` run in each append's transaction, with the services of `context` (what
 * they need, from the layers below: the store's own SqlClient, whose transaction is the append's)
 * over the caller's (which keeps its transaction connection and its span, not in `context`).
 */
export const decorate = <R>(
  store: EventStore["Service"],
  projections: ReadonlyArray<InlineProjection<unknown, R>>,
  context: Context.Context<R>
): EventStore["Service"] => {
  const types = projections.map((p) => (p.eventTypes === undefined ? undefined : new Set(p.eventTypes)))
  const wants = (type: string) => types.some((set) => set === undefined || set.has(type))

  const project = (events: ReadonlyArray<Event>) =>
    Effect.gen(function* () {
      const registry = yield* Upcasters
      const latest: Array<Event> = []
      for (const event of events) {
        if (!wants(event.event_type)) continue
        const upcast = registry.upcast(event)
        if (Result.isFailure(upcast)) return yield* asStoreError("upcast")(upcast.failure)
        latest.push(upcast.success)
      }
      for (const [i, projection] of projections.entries()) {
        const set = types[i]
        for (const event of latest) {
          if (set !== undefined && !set.has(event.event_type)) continue
          yield* projection.apply(event).pipe(
            Effect.updateContext((current: Context.Context<never>) => Context.merge(current, context)),
            Effect.mapError(asStoreError(projection.name))
          )
        }
      }
    }).pipe(Effect.withSpan("sluice.inlineProjections", { attributes: { events: events.length } }))

  /** `append` (or `appendToStream`) of `batch`, then the projections, in one transaction. */
  const appendProjecting = <A extends AppendResult, E>(
    batch: AppendBatch,
    append: () => Effect.Effect<A, E | StoreError>
  ): Effect.Effect<A, E | StoreError> => {
    if (!batch.events.some((event) => wants(event.event_type))) return append()
    const once = store.transaction(
      Effect.gen(function* () {
        // Called again on each attempt: a store's effect need not be one that can run twice.
        const result = yield* Effect.mapError(append(), (error) => new AppendFailed({ error }))
        const fresh = newlyStored(batch.events, result)
        if (fresh.length > 0) yield* project(fresh)
        return result
      })
    )
    const attempt = (left: number): Effect.Effect<A, E | StoreError> =>
      Effect.catch(once, (error) => {
        if (!(error instanceof AppendFailed)) return Effect.fail(error)
        const inner = error.error as E | StoreError
        // Rolled back before its commit: starting over cannot store anything twice.
        return inner instanceof StoreError && inner.retryable && left > 0 ? attempt(left - 1) : Effect.fail(inner)
      })
    return attempt(raceRetries)
  }

  return EventStore.of({
    ...store,
    append: (batch) => appendProjecting(batch, () => store.append(batch)),
    // With a projected event among them: batch by batch, each projected in the one transaction.
    appendAll: (batches) =>
      batches.some((batch) => batch.events.some((event) => wants(event.event_type)))
        ? store.transaction(Effect.forEach(batches, (batch) => appendProjecting(batch, () => store.append(batch))))
        : store.appendAll(batches),
    appendToStream: (stream, batch, options) =>
      appendProjecting(batch, () => store.appendToStream(stream, batch, options))
  })
}

/**
 * Decorates the EventStore below it with `projections`: provide the store to it, e.g.
 * `InlineProjection.layer([positions]).pipe(Layer.provideMerge(storeLayer))`. What the projections
 * need (a SqlClient...) is taken from the layers below too.
 */
export const layer = <const P extends ReadonlyArray<InlineProjection<unknown, unknown>>>(
  projections: P
): Layer.Layer<EventStore, never, EventStore | Requirements<P>> =>
  Layer.effect(
    EventStore,
    Effect.gen(function* () {
      const store = yield* EventStore
      const context = yield* Effect.context<Requirements<P>>()
      return decorate(store, projections as ReadonlyArray<InlineProjection<unknown, Requirements<P>>>, context)
    })
  )
