/**
 * The ingest loop of a source whose next fetch may be taken while the previous one is stored
 * (`Source.pipelined`): fetch N+1 is taken and prepared (the Node side: pulling, transforming,
 * hashing, ids) while fetch N's append waits on the database. Appends stay one at a time, in fetch
 * order, so per-entity order and stream revisions are as with `Ingest.tick`; fetch N+1's append
 * starts only after fetch N was committed and acknowledged. When N's append fails, N is released
 * and so is N+1 (taken, never stored), so nothing after N commits before N's redelivery could.
 * Stopping the loop releases every fetch taken and not yet acknowledged.
 */
import { Effect, type Tracer } from "effect"
import type { EventStore } from "../EventStore.ts"
import * as Metrics from "../Metrics.ts"
import type { Router } from "../Routing.ts"
import { type FetchResult, type Source, SourceError } from "../Source.ts"
import { type PreparedFetch, prepareFetch, storeFetch, takeFetch } from "./TickSteps.ts"

/** A prepared fetch and the span it was taken in, which its append continues. */
interface Taken {
  readonly fetch: PreparedFetch
  readonly span: Tracer.Span | undefined
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

const asSourceError = (source: Source) => (defect: unknown) =>
  Effect.fail(new SourceError({ source: source.name, reason: `defect: ${String(defect)}`, retryable: true }))

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
    return {
      fetch: yield* prepareFetch(source, router, fetched),
      span: span._tag === "Some" ? span.value : undefined
    }
  }).pipe(Effect.withSpan("sluice.ingest.tick"), Effect.catchDefect(asSourceError(source)))
  const store = ({ fetch, span }: Taken) =>
    storeFetch(source, fetch).pipe(
      (effect) => (span === undefined ? effect : Effect.withParentSpan(effect, span)),
      Effect.catchDefect((defect) =>
        // A defect after the append began: release what may not have committed (a no-op once acknowledged).
        Effect.andThen(fetch.fetched.release ?? Effect.void, asSourceError(source)(defect))
      )
    )

  return Effect.gen(function* () {
    yield* Metrics.initialiseSource(source.name)
    let failures = 0
    let next: Taken | undefined
    let first = true
    while (true) {
      // The interval runs from one fetch to the next (the first at once), beside the append.
      const wait = first ? 0 : failures === 0 ? interval : Math.min(maxBackoff, interval * 2 ** failures)
      first = false
      const storing = next
      const [stored, taken] = yield* Effect.all(
        [storing === undefined ? Effect.void : store(storing), Effect.andThen(Effect.sleep(wait), take)],
        { concurrency: 2, mode: "result" }
      )
      next = undefined
      const failure = stored._tag === "Failure" ? stored.failure : taken._tag === "Failure" ? taken.failure : undefined
      if (failure === undefined) {
        failures = 0
        if (taken._tag === "Success") next = taken.success
        continue
      }
      // N+1 was taken while N failed: released, so nothing after N commits first.
      if (taken._tag === "Success") yield* taken.success.fetch.fetched.release ?? Effect.void
      const retryable = failure._tag === "StoreError" || failure.retryable
      failures = retryable ? failures + 1 : 0
      yield* Effect.logError("tick failed").pipe(
        Effect.annotateLogs({ source: source.name, error: failure.message, retryable, failures })
      )
    }
  }).pipe(Effect.ensuring(releaseUnsettled))
}
