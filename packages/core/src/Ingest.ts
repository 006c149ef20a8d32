/**
 * The ingest pipeline: source tick -> raw payload -> transform -> ONE atomic append of the raw
 * payload, its events and their outbox rows.
 *
 * Bad input is kept and explained, never dropped and never fatal: a payload that fails to
 * transform is stored with its reason; a draft that fails validation is left out and its reason is
 * stored on the raw row and logged; the other drafts of the payload still become events.
 */
import { Duration, Effect, LogLevel, Metric } from "effect"
import { type AppendResult, EventStore, type StoreError } from "./EventStore.ts"
import { settingDuration } from "./InvalidSetting.ts"
import { type PreparedPayload, preparePayloads, preparePayloadThen } from "./internal/PreparePayloads.ts"
import * as Metrics from "./Metrics.ts"
import type { Router } from "./Routing.ts"
import { type FetchFailure, type RawFetch, type Source, SourceError } from "./Source.ts"

/** What one raw payload became. */
export interface PayloadReport {
  readonly rawId: string
  readonly traceId: string
  readonly appended: number
  readonly duplicates: number
  /** Events stored as corrections: their key was stored with other content (Correction.ts). */
  readonly corrected: number
  /** Events skipped: a later raw payload already gave their key other content. */
  readonly outdated: number
  readonly outboxRows: number
  /** Why the payload, or parts of it, did not become events. */
  readonly issues: ReadonlyArray<string>
}

/** What one tick of a source did. */
export interface TickReport {
  readonly source: string
  readonly payloads: ReadonlyArray<PayloadReport>
  readonly fetchFailures: ReadonlyArray<FetchFailure>
}

export {
  completeDraft,
  completeDraftAt,
  type PreparedPayload,
  preparePayload,
  preparePayloads,
  transformSafely
} from "./internal/PreparePayloads.ts"

/** The lines one stored payload is worth: its transform issues, corrections and (at Debug) a summary. */
const payloadLines = (source: string, prepared: PreparedPayload, result: AppendResult) =>
  Effect.gen(function* () {
    yield* reportCorrections(source, result)
    for (const issue of prepared.issues) {
      yield* Effect.logWarning("payload kept with a transform issue").pipe(Effect.annotateLogs({ error: issue }))
    }
    yield* Effect.logDebug("payload ingested", {
      events: result.appended.length,
      duplicates: result.duplicates.length,
      corrected: result.corrected.length,
      outbox_rows: result.outboxRows
    })
  }).pipe(Effect.annotateLogs({ trace_id: prepared.batch.raw.trace_id, source, raw_id: prepared.batch.raw.raw_id }))

/**
 * Counts and logs what a fetch's stored payloads became, and reports them: the counters once per
 * fetch; a line per issue and correction, and at Debug one per payload.
 */
const reportPayloads = (
  source: string,
  prepared: ReadonlyArray<PreparedPayload>,
  results: ReadonlyArray<AppendResult>
): Effect.Effect<ReadonlyArray<PayloadReport>> =>
  Effect.gen(function* () {
    const reports: Array<PayloadReport> = []
    let appended = 0
    let duplicates = 0
    let issues = 0
    for (const [i, { batch, issues: found }] of prepared.entries()) {
      const result = results[i]!
      appended += result.appended.length
      duplicates += result.duplicates.length
      issues += found.length
      reports.push({
        rawId: batch.raw.raw_id,
        traceId: batch.raw.trace_id,
        appended: result.appended.length,
        duplicates: result.duplicates.length,
        corrected: result.corrected.length,
        outdated: result.outdated.length,
        outboxRows: result.outboxRows,
        issues: found
      })
    }
    if (reports.length === 0) return reports
    yield* Metric.update(Metrics.forSource(Metrics.rawPayloads, source), reports.length)
    yield* Metric.update(Metrics.forSource(Metrics.eventsIngested, source), appended)
    yield* Metric.update(Metrics.forSource(Metrics.eventsDuplicate, source), duplicates)
    if (issues > 0) yield* Metric.update(Metrics.forSource(Metrics.transformFailures, source), issues)
    const debug = yield* LogLevel.isEnabled("Debug")
    for (const [i, payload] of prepared.entries()) {
      const result = results[i]!
      if (debug || payload.issues.length > 0 || result.corrected.length > 0 || result.outdated.length > 0)
        yield* payloadLines(source, payload, result)
    }
    return reports
  })

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
 * Counts and logs an append's corrections and outdated events: one line each, since a restatement
 * is news to an operator (a split, a revised figure) and rare.
 */
export const reportCorrections = (source: string, result: AppendResult): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (result.corrected.length > 0)
      yield* Metric.update(Metrics.forSource(Metrics.eventsCorrected, source), result.corrected.length)
    if (result.outdated.length > 0)
      yield* Metric.update(Metrics.forSource(Metrics.eventsOutdated, source), result.outdated.length)
    for (const correction of result.corrected) {
      yield* Effect.logInfo("source restated an event: correction appended").pipe(
        Effect.annotateLogs({
          source,
          event_id: correction.eventId,
          supersedes: correction.supersedes,
          key_event_id: correction.of
        })
      )
    }
    for (const id of result.outdated) {
      yield* Effect.logInfo("event skipped: a later payload already restated it").pipe(
        Effect.annotateLogs({ source, key_event_id: id })
      )
    }
  })

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
  const fetched = yield* source.fetch.pipe(
    Effect.tapError((error) =>
      Effect.andThen(
        Metric.update(Metrics.forSource(Metrics.fetchFailures, source.name), 1),
        Effect.logWarning("fetch failed").pipe(
          Effect.annotateLogs({ source: source.name, error: error.reason, retryable: error.retryable })
        )
      )
    )
  )
  for (const failure of fetched.failures) {
    yield* Metric.update(Metrics.forSource(Metrics.fetchFailures, source.name), 1)
    yield* Effect.logWarning("fetch failed in part").pipe(
      Effect.annotateLogs({
        source: source.name,
        subject: failure.subject,
        error: failure.reason,
        retryable: failure.retryable
      })
    )
  }
  // One atomic append per fetch (`appendAll`: one statement on a SQL store), and an
  // acknowledgement that covers exactly what committed.
  const store = yield* EventStore
  const prepared = yield* preparePayloads(source, router, fetched.payloads)
  const results = yield* (
    prepared.length === 0 ? Effect.succeed([]) : store.appendAll(prepared.map((p) => p.batch))
  ).pipe(Effect.onError(() => fetched.release ?? Effect.void))
  const payloads = yield* reportPayloads(source.name, prepared, results)
  if (fetched.acknowledge !== undefined) {
    yield* fetched.acknowledge.pipe(
      Effect.catch((error) =>
        Effect.logWarning("acknowledging a committed fetch failed: its source may deliver it again").pipe(
          Effect.annotateLogs({ source: source.name, error: error.reason })
        )
      )
    )
  }
  const appended = payloads.reduce((sum, p) => sum + p.appended, 0)
  const duplicates = payloads.reduce((sum, p) => sum + p.duplicates, 0)
  const corrected = payloads.reduce((sum, p) => sum + p.corrected, 0)
  // One line per tick, so a source that finds nothing new (a replay of data already stored, a
  // closed market) does not look hung.
  yield* Effect.logInfo(tickSummary(payloads.length, appended, duplicates, corrected)).pipe(
    Effect.annotateLogs({
      source: source.name,
      payloads: payloads.length,
      events: appended,
      duplicates,
      corrected,
      fetchFailures: fetched.failures.length
    })
  )
  return { source: source.name, payloads, fetchFailures: fetched.failures }
})

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`

/** What a tick found, in words: `fetched 2 payloads: all 10 events already stored (duplicates), ...`. */
const tickSummary = (payloads: number, appended: number, duplicates: number, corrected: number): string => {
  const fetched = `fetched ${plural(payloads, "payload", "payloads")}`
  if (corrected > 0)
    return `${fetched}: ${plural(appended, "new event", "new events")}, ${plural(corrected, "correction", "corrections")}, ${plural(duplicates, "duplicate", "duplicates")}`
  if (appended === 0 && duplicates > 0)
    return `${fetched}: all ${plural(duplicates, "event", "events")} already stored (duplicates), nothing new to deliver`
  if (appended === 0) return `${fetched}: no events`
  return `${fetched}: ${plural(appended, "new event", "new events")}, ${plural(duplicates, "duplicate", "duplicates")}`
}

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
 */
export const run = (source: Source, router: Router, options: RunOptions): Effect.Effect<never, never, EventStore> =>
  Effect.gen(function* () {
    const interval = Duration.toMillis(
      settingDuration("ingest", "interval", options.interval, { least: 1, infinite: false })
    )
    const maxBackoff = Duration.toMillis(
      settingDuration("ingest", "maxBackoff", options.maxBackoff ?? "5 minutes", { least: 1, infinite: true })
    )
    yield* Metrics.initialiseSource(source.name)
    let failures = 0
    while (true) {
      const result = yield* tick(source, router).pipe(
        Effect.catchDefect((defect) =>
          Effect.fail(new SourceError({ source: source.name, reason: `defect: ${String(defect)}`, retryable: true }))
        ),
        Effect.result
      )
      if (result._tag === "Success") {
        failures = 0
      } else {
        const retryable = result.failure._tag === "StoreError" || result.failure.retryable
        failures = retryable ? failures + 1 : 0
        yield* Effect.logError("tick failed").pipe(
          Effect.annotateLogs({ source: source.name, error: result.failure.message, retryable, failures })
        )
      }
      const wait = failures === 0 ? interval : Math.min(maxBackoff, interval * 2 ** failures)
      yield* Effect.sleep(Duration.millis(wait))
    }
  })
