/**
 * The steps of an ingest tick, shared by `Ingest.tick` (one fetch at a time) and the pipelined
 * loop (`PipelinedIngest.ts`, which takes the next fetch while the previous one is stored): take a
 * fetch, prepare its payloads, append them with one `appendAll`, then report and acknowledge what
 * committed.
 */
import { Effect, LogLevel, Metric } from "effect"
import { type AppendResult, EventStore, type StoreError } from "../EventStore.ts"
import * as Metrics from "../Metrics.ts"
import type { Router } from "../Routing.ts"
import { type FetchFailure, type FetchResult, type Source, SourceError } from "../Source.ts"
import { type PreparedPayload, preparePayloads } from "./PreparePayloads.ts"

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

/** A fetch whose payloads are ready to append. */
export interface PreparedFetch {
  readonly fetched: FetchResult
  readonly prepared: ReadonlyArray<PreparedPayload>
}

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
export const reportPayloads = (
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

/** The source's fetch, its failure (whole or in part) counted and logged. */
export const takeFetch = (source: Source): Effect.Effect<FetchResult, SourceError> =>
  source.fetch.pipe(
    Effect.tapError((error) =>
      Effect.andThen(
        Metric.update(Metrics.forSource(Metrics.fetchFailures, source.name), 1),
        Effect.logWarning("fetch failed").pipe(
          Effect.annotateLogs({ source: source.name, error: error.reason, retryable: error.retryable })
        )
      )
    ),
    Effect.tap((fetched) =>
      Effect.forEach(
        fetched.failures,
        (failure) =>
          Effect.andThen(
            Metric.update(Metrics.forSource(Metrics.fetchFailures, source.name), 1),
            Effect.logWarning("fetch failed in part").pipe(
              Effect.annotateLogs({
                source: source.name,
                subject: failure.subject,
                error: failure.reason,
                retryable: failure.retryable
              })
            )
          ),
        { discard: true }
      )
    )
  )

/** Prepares a fetch's payloads for its append. */
export const prepareFetch = (source: Source, router: Router, fetched: FetchResult): Effect.Effect<PreparedFetch> =>
  Effect.map(preparePayloads(source, router, fetched.payloads), (prepared) => ({ fetched, prepared }))

/** Stores a prepared fetch with one atomic `appendAll` (one statement on a SQL store); its `release` when that failed. */
export const appendFetch = ({
  fetched,
  prepared
}: PreparedFetch): Effect.Effect<ReadonlyArray<AppendResult>, StoreError, EventStore> =>
  prepared.length === 0
    ? Effect.succeed([])
    : Effect.flatMap(EventStore, (store) => store.appendAll(prepared.map((p) => p.batch))).pipe(
        Effect.onError(() => fetched.release ?? Effect.void)
      )

/**
 * Reports a committed fetch and runs its `acknowledge`, which covers exactly what committed (a
 * failed acknowledgement is logged: the data is stored either way).
 */
export const finishFetch = (
  source: Source,
  { fetched, prepared }: PreparedFetch,
  results: ReadonlyArray<AppendResult>
): Effect.Effect<TickReport> =>
  Effect.gen(function* () {
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

/** `appendFetch`, then `finishFetch`. */
export const storeFetch = (source: Source, fetch: PreparedFetch): Effect.Effect<TickReport, StoreError, EventStore> =>
  Effect.flatMap(appendFetch(fetch), (results) => finishFetch(source, fetch, results))

/** A defect in a tick, as the retryable failure it is reported and backed off as. */
export const defectError = (source: Source, defect: unknown): SourceError =>
  new SourceError({ source: source.name, reason: `defect: ${String(defect)}`, retryable: true })

/**
 * Logs a failed tick and returns the count of consecutive retryable failures after it: a
 * non-retryable one (bad credentials...) resets it, since waiting longer cannot help.
 */
export const tickFailed = (
  source: Source,
  failure: StoreError | SourceError,
  failures: number
): Effect.Effect<number> => {
  const retryable = failure._tag === "StoreError" || failure.retryable
  const after = retryable ? failures + 1 : 0
  return Effect.as(
    Effect.logError("tick failed").pipe(
      Effect.annotateLogs({ source: source.name, error: failure.message, retryable, failures: after })
    ),
    after
  )
}

/** The wait (ms) before the next tick after `failures` consecutive retryable failures. */
export const waitAfter = (failures: number, interval: number, maxBackoff: number): number =>
  failures === 0 ? interval : Math.min(maxBackoff, interval * 2 ** failures)

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
