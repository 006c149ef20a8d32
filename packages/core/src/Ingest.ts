/**
 * The ingest pipeline: source tick -> raw payload -> transform -> ONE atomic append of the raw
 * payload, its events and their outbox rows.
 *
 * Bad input is kept and explained, never dropped and never fatal: a payload that fails to
 * transform is stored with its reason; a draft that fails validation is left out and its reason is
 * stored on the raw row and logged; the other drafts of the payload still become events.
 */
import { Clock, DateTime, Duration, Effect, Metric, Option, Schema, SchemaIssue } from "effect"
import { Hex } from "effect/encoding"
import { Event, type RawPayload, type TraceId } from "./Event.ts"
import { type AppendBatch, type AppendResult, EventStore, type StoreError } from "./EventStore.ts"
import * as EventTrace from "./EventTrace.ts"
import { deterministicEventId, deterministicRawPayloadId, nextEventId, nextRawPayloadId, nextTraceId } from "./Ids.ts"
import { settingDuration } from "./InvalidSetting.ts"
import { sha256, utf8 } from "./internal/hash.ts"
import * as Metrics from "./Metrics.ts"
import { outboxDrafts, type Router } from "./Routing.ts"
import {
  type EventDraft,
  type FetchFailure,
  type RawFetch,
  type Source,
  SourceError,
  TransformError
} from "./Source.ts"
import { storableRaw } from "./StorableText.ts"

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

const formatIssue = SchemaIssue.makeFormatterDefault()
const validateEvent = Schema.decodeUnknownExit(Event)

/**
 * Runs `source`'s transformer on `raw`. A transformer that throws (JSON.parse of an HTML error
 * page...) is a transform failure like any other, with the reason.
 */
export const transformSafely = (source: Source, raw: RawPayload) =>
  source.transform(raw).pipe(
    Effect.catchDefect((defect) =>
      Effect.fail(new TransformError({ reason: `transformer crashed: ${String(defect)}`, cause: defect }))
    ),
    Effect.result
  )

/** Completes a draft into a canonical event, or explains (naming the field) why it cannot be one. */
export const completeDraft = (
  source: string,
  traceId: string,
  draft: EventDraft
): Effect.Effect<{ readonly event: Event } | { readonly issue: string }> =>
  Effect.gen(function* () {
    const eventId =
      draft.natural_key === undefined ? yield* nextEventId : deterministicEventId(source, draft.natural_key)
    const candidate = {
      event_id: eventId,
      event_type: draft.event_type,
      entity_id: draft.entity_id,
      entity_type: draft.entity_type,
      trace_id: traceId,
      schema_version: draft.schema_version ?? 1,
      occurred_at: DateTime.isDateTime(draft.occurred_at) ? DateTime.formatIso(draft.occurred_at) : draft.occurred_at,
      payload: draft.payload
    }
    const exit = validateEvent(candidate, { errors: "all" })
    if (exit._tag === "Success") return { event: exit.value }
    const error = exit.cause.reasons.find((reason) => reason._tag === "Fail")
    const detail =
      error !== undefined && Schema.isSchemaError(error.error) ? formatIssue(error.error.issue) : String(exit.cause)
    return { issue: `${draft.event_type} ${draft.entity_id}: ${detail.replace(/\n\s*/g, " ")}` }
  })

/** A fetched payload made ready to append: its raw payload, events, outbox rows and issues. */
export interface PreparedPayload {
  readonly batch: AppendBatch & { readonly raw: RawPayload }
  /** Why the payload, or parts of it, did not become events. */
  readonly issues: ReadonlyArray<string>
}

/**
 * Transforms one fetched payload into what to append: the raw payload (kept whatever the
 * transformer does, with the reason when it failed), the events and their outbox rows.
 */
export const preparePayload = (source: Source, router: Router, fetched: RawFetch): Effect.Effect<PreparedPayload> =>
  Effect.flatMap(nextTraceId, (traceId) =>
    inPayloadTrace(source, traceId, prepareTraced(source, router, fetched, traceId))
  )

/**
 * The span of a payload's ingest, in the trace its events carry (EventTrace.ts: so a relay attempt
 * days later lands in the same trace), linked to the tick that fetched it.
 */
const inPayloadTrace = <A, E, R>(source: Source, traceId: TraceId, self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Effect.option(Effect.currentSpan), (tick) =>
    Effect.withSpan(self, "sluice.ingest.payload", {
      parent: EventTrace.parentOf(traceId),
      links: Option.isSome(tick) ? [{ span: tick.value, attributes: {} }] : [],
      attributes: { "sluice.source": source.name },
      captureStackTrace: false
    })
  )

const prepareTraced = Effect.fnUntraced(function* (
  source: Source,
  router: Router,
  fetched: RawFetch,
  traceId: TraceId
): Effect.fn.Return<PreparedPayload> {
  // A keyed payload delivered again gets the id it was stored under: the store keeps one copy.
  const rawId =
    fetched.key === undefined ? yield* nextRawPayloadId : deterministicRawPayloadId(source.name, fetched.key)
  const receivedAt = DateTime.makeUnsafe(yield* Clock.currentTimeMillis)
  const raw: RawPayload = {
    raw_id: rawId,
    source: source.name,
    content_type: fetched.content_type,
    body: fetched.body,
    request: (fetched.request ?? null) as RawPayload["request"],
    received_at: receivedAt,
    trace_id: traceId,
    content_hash: Hex.encode(sha256(utf8(fetched.body))),
    transform_error: null
  }
  const transformed = yield* transformSafely(source, raw)
  const issues: Array<string> = []
  const events: Array<Event> = []
  if (transformed._tag === "Failure") {
    issues.push(transformed.failure.reason)
  } else {
    issues.push(...transformed.success.issues)
    for (const draft of transformed.success.events) {
      const completed = yield* completeDraft(source.name, traceId, draft)
      if ("event" in completed) events.push(completed.event)
      else issues.push(completed.issue)
    }
  }
  // A body or request the database cannot hold is kept in a form it can, and said so (StorableText.ts).
  const stored = yield* storableRaw({ ...raw, transform_error: issues.length === 0 ? null : issues.join("\n") })
  return { batch: { raw: stored, events, outbox: outboxDrafts(router, events) }, issues }
})

/** Counts and logs what one stored payload became, and reports it. */
const reportPayload = (source: string, prepared: PreparedPayload, result: AppendResult) =>
  Effect.gen(function* () {
    yield* Metric.update(Metrics.forSource(Metrics.rawPayloads, source), 1)
    yield* Metric.update(Metrics.forSource(Metrics.eventsIngested, source), result.appended.length)
    yield* Metric.update(Metrics.forSource(Metrics.eventsDuplicate, source), result.duplicates.length)
    yield* reportCorrections(source, result)
    const { issues } = prepared
    if (issues.length > 0) {
      yield* Metric.update(Metrics.forSource(Metrics.transformFailures, source), issues.length)
      for (const issue of issues) {
        yield* Effect.logWarning("payload kept with a transform issue").pipe(Effect.annotateLogs({ error: issue }))
      }
    }
    yield* Effect.logDebug("payload ingested", {
      events: result.appended.length,
      duplicates: result.duplicates.length,
      corrected: result.corrected.length,
      outbox_rows: result.outboxRows
    })
    return {
      rawId: prepared.batch.raw.raw_id,
      traceId: prepared.batch.raw.trace_id,
      appended: result.appended.length,
      duplicates: result.duplicates.length,
      corrected: result.corrected.length,
      outdated: result.outdated.length,
      outboxRows: result.outboxRows,
      issues
    } satisfies PayloadReport
  }).pipe(Effect.annotateLogs({ trace_id: prepared.batch.raw.trace_id, source, raw_id: prepared.batch.raw.raw_id }))

/**
 * Stores one fetched payload and the events it yields, atomically. Returns what happened; fails only
 * when the store does (then nothing of the payload was stored and the caller may retry).
 */
export const ingestPayload = (
  source: Source,
  router: Router,
  fetched: RawFetch
): Effect.Effect<PayloadReport, StoreError, EventStore> =>
  Effect.flatMap(nextTraceId, (traceId) =>
    inPayloadTrace(
      source,
      traceId,
      Effect.gen(function* () {
        const store = yield* EventStore
        const prepared = yield* prepareTraced(source, router, fetched, traceId)
        const result = yield* store.append(prepared.batch)
        return yield* reportPayload(source.name, prepared, result)
      })
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
  const prepared = yield* Effect.forEach(fetched.payloads, (payload) => preparePayload(source, router, payload))
  const results = yield* (
    prepared.length === 0 ? Effect.succeed([]) : store.appendAll(prepared.map((p) => p.batch))
  ).pipe(Effect.onError(() => fetched.release ?? Effect.void))
  const payloads = yield* Effect.forEach(prepared, (p, i) => reportPayload(source.name, p, results[i]!))
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
      fetch_failures: fetched.failures.length
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
