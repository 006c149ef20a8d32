/**
 * The ingest loop of a source whose next fetch may be taken while the previous one is stored
 * (`Source.pipelined`): fetch N+1 is taken and prepared (the Node side: pulling, transforming,
 * hashing, ids) while fetch N's append waits on the database. When the two share nothing (no
 * entity, ordering key, event id or raw payload id), N+1's append starts while N's is in flight:
 * two appends at most, and no two appends of one entity at once, so per-entity order and stream
 * revisions are as with `Ingest.tick`. Acknowledgements come in fetch order, each after its own
 * fetch committed. When N's append fails, N is released and so is N+1 (taken, or appended beside
 * it, committed or not), so nothing after N is acknowledged before N's redelivery. Stopping the
 * loop releases every fetch taken and not yet acknowledged.
 */
import { Cause, Effect, Exit, Fiber, Scope, type Tracer } from "effect"
import type { AppendResult, EventStore, StoreError } from "../EventStore.ts"
import * as Metrics from "../Metrics.ts"
import type { Router } from "../Routing.ts"
import type { FetchResult, Source, SourceError } from "../Source.ts"
import {
  appendFetch,
  defectError,
  finishFetch,
  type PreparedFetch,
  prepareFetch,
  takeFetch,
  tickFailed,
  waitAfter
} from "./TickSteps.ts"

/** A prepared fetch, the span it was taken in (which its append continues) and what it touches. */
interface Taken {
  readonly fetch: PreparedFetch
  readonly span: Tracer.Span | undefined
  readonly keys: ReadonlySet<string>
}

/** A taken fetch, and its append once started. */
interface Next {
  readonly taken: Taken
  readonly append: Fiber.Fiber<ReadonlyArray<AppendResult>, StoreError> | undefined
}

/** A fetch whose append runs. */
interface InFlight {
  readonly taken: Taken
  readonly append: Fiber.Fiber<ReadonlyArray<AppendResult>, StoreError>
}

/**
 * What no two appends in flight may share: entities (their stream revisions), ordering keys,
 * event ids and raw payload ids.
 */
const keysOf = (fetch: PreparedFetch): ReadonlySet<string> => {
  const keys = new Set<string>()
  for (const { batch } of fetch.prepared) {
    if (batch.raw !== null) keys.add(`r ${batch.raw.raw_id}`)
    for (const event of batch.events) {
      keys.add(`s ${event.entity_type} ${event.entity_id.length} ${event.entity_id}`)
      keys.add(`e ${event.event_id}`)
    }
    for (const row of batch.outbox) if (row.ordering_key !== null) keys.add(`o ${row.route} ${row.ordering_key}`)
  }
  return keys
}

const overlap = (a: ReadonlySet<string>, b: ReadonlySet<string>): boolean => {
  const [small, large] = a.size <= b.size ? [a, b] : [b, a]
  for (const key of small) if (large.has(key)) return true
  return false
}

/**
 * `fetched` with an `acknowledge` and a `release` that settle it once: the first to run does its
 * work and removes it from `unsettled`, any later one does nothing.
 */
const hold = (unsettled: Set<Effect.Effect<void>>, fetched: FetchResult): FetchResult => {
  let settled = false
  const settle = <E>(effect: Effect.Effect<void, E> | undefined): Effect.Effect<void, E> =>
    Effect.suspend(() => {
      if (settled) return Effect.void
      settled = true
      unsettled.delete(release)
      return effect ?? Effect.void
    })
  const release = settle(fetched.release)
  unsettled.add(release)
  return { ...fetched, acknowledge: settle(fetched.acknowledge), release }
}

const releaseOf = (taken: Taken): Effect.Effect<void> => taken.fetch.fetched.release ?? Effect.void

/** Runs the pipelined loop forever (see the module's comment); `interval` and `maxBackoff` in ms. */
export const runPipelined = (
  source: Source,
  router: Router,
  interval: number,
  maxBackoff: number
): Effect.Effect<never, never, EventStore> => {
  // Fetches taken and neither acknowledged nor released: released when the loop stops.
  const unsettled = new Set<Effect.Effect<void>>()
  const releaseUnsettled = Effect.suspend(() => Effect.forEach([...unsettled], (release) => release, { discard: true }))
  // Held as soon as the source's fetch returns, so an interruption from then on releases it.
  const holding: Source = {
    ...source,
    fetch: Effect.uninterruptibleMask((restore) =>
      Effect.map(restore(source.fetch), (result) => hold(unsettled, result))
    )
  }
  const take: Effect.Effect<Taken, SourceError> = Effect.gen(function* () {
    const fetched = yield* takeFetch(holding)
    const span = yield* Effect.option(Effect.currentSpan)
    const fetch = yield* prepareFetch(source, router, fetched)
    return { fetch, span: span._tag === "Some" ? span.value : undefined, keys: keysOf(fetch) }
  }).pipe(
    Effect.withSpan("sluice.ingest.tick"),
    Effect.catchDefect((defect) => Effect.fail(defectError(source, defect)))
  )
  /**
   * Waits for an append in flight, then reports and acknowledges its fetch; the failure when it
   * failed (its fetch was released by then).
   */
  const settle = ({ taken, append }: InFlight): Effect.Effect<StoreError | SourceError | undefined> =>
    Effect.flatMap(Fiber.await(append), (exit) => {
      if (Exit.isSuccess(exit)) return Effect.as(finishFetch(source, taken.fetch, exit.value), undefined)
      const error = Cause.findErrorOption(exit.cause)
      return Effect.succeed(error._tag === "Some" ? error.value : defectError(source, Cause.pretty(exit.cause)))
    })

  return Effect.gen(function* () {
    yield* Metrics.initialiseSource(source.name)
    // Owns the appends in flight: closing it (the loop stopping) interrupts them.
    const appends = yield* Scope.make()
    yield* Effect.addFinalizer(() => Effect.andThen(Scope.close(appends, Exit.void), releaseUnsettled))
    // Started at once (not on the scheduler's next turn): the append's statement leaves before the
    // loop goes on to take the next fetch.
    const startAppend = (taken: Taken): Effect.Effect<InFlight, never, EventStore> =>
      Effect.map(
        Effect.forkIn(
          taken.span === undefined
            ? appendFetch(taken.fetch)
            : Effect.withParentSpan(appendFetch(taken.fetch), taken.span),
          appends,
          { startImmediately: true }
        ),
        (append) => ({ taken, append })
      )
    let failures = 0
    let first = true
    let inFlight: InFlight | undefined
    const failed = (failure: StoreError | SourceError) =>
      Effect.map(
        Effect.suspend(() => tickFailed(source, failure, failures)),
        (after) => {
          failures = after
        }
      )
    while (true) {
      // The interval runs from one fetch to the next (the first at once), beside the append.
      const wait = first ? 0 : waitAfter(failures, interval, maxBackoff)
      first = false
      const previous = inFlight
      inFlight = undefined
      // Settling N (its commit, then its acknowledgement) while N+1 is taken; N+1's append starts
      // at once when it shares nothing with N, else after N's acknowledgement.
      const [failure, taken] = yield* Effect.all(
        [
          previous === undefined ? Effect.succeed(undefined) : settle(previous),
          Effect.result(
            Effect.andThen(
              Effect.sleep(wait),
              Effect.flatMap(
                take,
                (next): Effect.Effect<Next, never, EventStore> =>
                  previous !== undefined && overlap(previous.taken.keys, next.keys)
                    ? Effect.succeed({ taken: next, append: undefined })
                    : startAppend(next)
              )
            )
          )
        ],
        { concurrency: 2 }
      )
      if (taken._tag === "Failure") {
        yield* failed(failure ?? taken.failure)
        continue
      }
      if (failure !== undefined) {
        // Taken, or appended beside N, while N failed: released (once its append ended, committed
        // or not), so nothing after N is acknowledged before N's redelivery.
        if (taken.success.append !== undefined) yield* Fiber.await(taken.success.append)
        yield* releaseOf(taken.success.taken)
        yield* failed(failure)
        continue
      }
      const { taken: next, append } = taken.success
      inFlight = append === undefined ? yield* startAppend(next) : { taken: next, append }
      failures = 0
    }
  }).pipe(Effect.scoped)
}
