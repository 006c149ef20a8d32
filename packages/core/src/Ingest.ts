/**
 * The ingest pipeline: source tick -> raw payload -> transform -> ONE atomic append of the raw
 * payload, its events and their outbox rows.
 *
 * Bad input is kept and explained, never dropped and never fatal: a payload that fails to
 * transform is stored with its reason; a draft that fails validation is left out and its reason is
 * stored on the raw row and logged; the other drafts of the payload still become events.
 */
import { Duration, Effect } from "effect"
import { EventStore, type StoreError } from "./EventStore.ts"
import { settingDuration } from "./InvalidSetting.ts"
import { runPipelined } from "./internal/PipelinedIngest.ts"
import { preparePayloadThen } from "./internal/PreparePayloads.ts"
import {
  defectError,
  type PayloadReport,
  prepareFetch,
  reportPayloads,
  storeFetch,
  type TickReport,
  takeFetch,
  tickFailed,
  waitAfter
} from "./internal/TickSteps.ts"
import * as Metrics from "./Metrics.ts"
import type { Router } from "./Routing.ts"
import type { RawFetch, Source, SourceError } from "./Source.ts"

export {
  completeDraft,
  completeDraftAt,
  type PreparedPayload,
  preparePayload,
  preparePayloads,
  transformSafely
} from "./internal/PreparePayloads.ts"
export { type PayloadReport, reportCorrections, type TickReport } from "./internal/TickSteps.ts"

/**
 * Stores one fetched payload and the events it yields, atomically. Returns what happened; fails only
 * when the store does (then nothing of the payload was stored and the caller may retry).
 */
export const ingestPayload = (
  source: Source,
  router: Router,
  fetched: RawFetch
): Effect.Effect<PayloadReport, StoreError, EventStore> =>
  Effect.flatMap(EventStore, (store) =>
    preparePayloadThen(source, router, fetched, (prepared) =>
      Effect.flatMap(store.append(prepared.batch), (result) =>
        Effect.map(reportPayloads(source.name, [prepared], [result]), (reports) => reports[0]!)
      )
    )
  )

/**
 * One tick: fetch, then store all of the fetch's payloads with one atomic `appendAll`; once it
 * committed, the fetch's `acknowledge` runs (its `release` when storing failed). Partial fetch
 * failures (one bad symbol) are reported and logged while the rest ingests; a failed fetch as a
 * whole fails the tick with SourceError.
 */
export const tick = Effect.fn("sluice.ingest.tick")(function* (
  source: Source,
  router: Router
): Effect.fn.Return<TickReport, SourceError | StoreError, EventStore> {
  const fetched = yield* takeFetch(source)
  return yield* storeFetch(source, yield* prepareFetch(source, router, fetched))
})

export interface RunOptions {
  /** Time between ticks. */
  readonly interval: Duration.Input
  /** Largest wait after consecutive failed ticks (the wait doubles per failure). @default 5 minutes */
  readonly maxBackoff?: Duration.Input
}

/**
 * Runs a source forever: a tick every `interval`. After a tick that failed retryably (a network
 * error, a 5xx, a store error, a defect) the wait doubles per consecutive failure up to `maxBackoff`;
 * a non-retryable failure (bad credentials...) is logged and the next tick comes at the normal
 * interval, since waiting longer cannot help. Never fails; interrupt it to stop. An `interval` or
 * `maxBackoff` that cannot work (see InvalidSettingError) makes it die before the first tick.
 *
 * A `pipelined` source is run by the pipelined loop instead (internal/PipelinedIngest.ts): its next
 * fetch is taken and prepared while the previous one is appended, `interval` apart from fetch to
 * fetch, and appended beside it when the two share no entity. Acknowledgements stay in fetch
 * order, each after its own commit; a failed append releases its fetch and the one taken or
 * appended meanwhile; stopping releases every fetch taken and not acknowledged.
 */
export const run = (source: Source, router: Router, options: RunOptions): Effect.Effect<never, never, EventStore> =>
  Effect.gen(function* () {
    const interval = Duration.toMillis(
      settingDuration("ingest", "interval", options.interval, { least: 1, infinite: false })
    )
    const maxBackoff = Duration.toMillis(
      settingDuration("ingest", "maxBackoff", options.maxBackoff ?? "5 minutes", { least: 1, infinite: true })
    )
    if (source.pipelined === true) return yield* runPipelined(source, router, interval, maxBackoff)
    yield* Metrics.initialiseSource(source.name)
    let failures = 0
    while (true) {
      const result = yield* tick(source, router).pipe(
        Effect.catchDefect((defect) => Effect.fail(defectError(source, defect))),
        Effect.result
      )
      failures = result._tag === "Success" ? 0 : yield* tickFailed(source, result.failure, failures)
      yield* Effect.sleep(Duration.millis(waitAfter(failures, interval, maxBackoff)))
    }
  })
