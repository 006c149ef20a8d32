/**
 * Re-derivation: re-runs a source's CURRENT transformer over the raw payloads it stored before
 * (after a transformer fix or a new schema version, or for payloads that failed to transform), and
 * appends only what is new or corrected (Correction.ts): the rest are duplicates, or outdated when a
 * later payload already restated them. Pages through the payloads (bounded memory), one
 * transaction per payload: the events appended and, when a payload that failed transforms cleanly
 * now, its resolution (RawPayloadStore). The raw payload itself is never rewritten.
 *
 * A draft without a natural key is not re-derived: its id is fresh each time, so appending it again
 * could not be told from the event stored the first time (counted as `unkeyed`). So a payload that
 * failed before and transforms now is resolved only when all its drafts have keys: one with a draft
 * without a key stays unresolved (`unresolvable`), still listed as failed, never silently dropped.
 *
 * `dryRun` does the same work in transactions that are rolled back: the counts are the real ones,
 * and nothing is kept.
 */
import { Data, type DateTime, Effect } from "effect"
import type { Event, RawPayloadId } from "./Event.ts"
import { type AppendResult, EventStore, type StoreError } from "./EventStore.ts"
import { nextTraceId } from "./Ids.ts"
import { completeDraft, reportCorrections, transformSafely } from "./Ingest.ts"
import { settingCount } from "./InvalidSetting.ts"
import { RawPayloadStore } from "./RawPayloadStore.ts"
import { outboxDrafts, type Router } from "./Routing.ts"
import type { Source } from "./Source.ts"
import { maxReadLimit } from "./SubscriptionStore.ts"

export interface RederiveOptions {
  /** Only payloads received at or after this time. */
  readonly since?: DateTime.Utc
  /** Count what would happen, keep nothing. @default false */
  readonly dryRun?: boolean
  /** Payloads read per page, at most `maxReadLimit` (10,000). @default 100 */
  readonly pageSize?: number
}

/** What a re-derivation did (or, dry, would do). */
export interface RederiveReport {
  readonly source: string
  readonly dryRun: boolean
  /** Raw payloads of the source read. */
  readonly payloads: number
  readonly eventsNew: number
  readonly corrected: number
  readonly duplicates: number
  readonly outdated: number
  /** Drafts without a natural key, not appended (see above). */
  readonly unkeyed: number
  /** Payloads that failed before (unresolved) and still do. */
  readonly stillFailing: number
  /** Payloads that transformed cleanly before and fail now (a transformer regression). */
  readonly nowFailing: number
  /** Payloads that failed before and transform cleanly now: their events appended, their error resolved. */
  readonly fixed: number
  /**
   * Payloads that failed before and transform cleanly now, but with drafts without a natural key:
   * those cannot be re-derived (see above), so the payload stays unresolved.
   */
  readonly unresolvable: number
}

class DryRun extends Data.TaggedError("DryRun")<{ readonly result: AppendResult | undefined }> {}

const none: AppendResult = { appended: [], duplicates: [], corrected: [], outdated: [], outboxRows: 0 }

/** Re-derives `source`'s stored payloads with its current transformer; see the module comment. */
export const rederive = Effect.fn("sluice.rederive")(function* (
  source: Source,
  router: Router,
  options: RederiveOptions = {}
): Effect.fn.Return<RederiveReport, StoreError, EventStore | RawPayloadStore> {
  const store = yield* EventStore
  const raws = yield* RawPayloadStore
  const dryRun = options.dryRun ?? false
  const limit = settingCount("rederive", "pageSize", options.pageSize, 100, maxReadLimit)
  const counts = {
    payloads: 0,
    eventsNew: 0,
    corrected: 0,
    duplicates: 0,
    outdated: 0,
    unkeyed: 0,
    stillFailing: 0,
    nowFailing: 0,
    fixed: 0,
    unresolvable: 0
  }
  let after: RawPayloadId | undefined
  while (true) {
    const page = yield* raws.readRaw({
      source: source.name,
      limit,
      ...(options.since === undefined ? {} : { since: options.since }),
      ...(after === undefined ? {} : { after })
    })
    for (const { raw, resolved_at } of page) {
      counts.payloads++
      const traceId = yield* nextTraceId
      const transformed = yield* transformSafely(source, raw)
      const issues: Array<string> = []
      const events: Array<Event> = []
      let unkeyedHere = 0
      if (transformed._tag === "Failure") issues.push(transformed.failure.reason)
      else {
        issues.push(...transformed.success.issues)
        for (const draft of transformed.success.events) {
          if (draft.natural_key === undefined) {
            counts.unkeyed++
            unkeyedHere++
            continue
          }
          const completed = yield* completeDraft(source.name, traceId, draft)
          if ("event" in completed) events.push(completed.event)
          else issues.push(completed.issue)
        }
      }
      const failedBefore = raw.transform_error !== null && resolved_at === null
      const transformsNow = failedBefore && issues.length === 0
      const fixed = transformsNow && unkeyedHere === 0
      const work = Effect.gen(function* () {
        const result =
          events.length === 0 ? none : yield* store.append({ raw, events, outbox: outboxDrafts(router, events) })
        if (fixed) yield* raws.resolve(raw.raw_id, traceId)
        return result
      })
      const result = dryRun
        ? yield* store
            .transaction(Effect.flatMap(work, (result) => Effect.fail(new DryRun({ result }))))
            .pipe(Effect.catchTag("DryRun", (dry) => Effect.succeed(dry.result ?? none)))
        : yield* store.transaction(work)
      counts.eventsNew += result.appended.length
      counts.corrected += result.corrected.length
      counts.duplicates += result.duplicates.length
      counts.outdated += result.outdated.length
      if (fixed) counts.fixed++
      else if (transformsNow) {
        counts.unresolvable++
        yield* Effect.logWarning(
          "payload transforms now, but drafts without a natural key cannot be re-derived: it stays unresolved"
        ).pipe(Effect.annotateLogs({ source: source.name, raw_id: raw.raw_id, unkeyed: unkeyedHere }))
      } else if (issues.length > 0) {
        const before = raw.transform_error !== null
        if (before) counts.stillFailing++
        else counts.nowFailing++
        yield* Effect.logWarning(
          before ? "payload still fails to transform" : "payload now fails to transform (it transformed when stored)"
        ).pipe(Effect.annotateLogs({ source: source.name, raw_id: raw.raw_id, error: issues.join("\n") }))
      }
      if (!dryRun) yield* reportCorrections(source.name, result)
    }
    if (page.length < limit) break
    after = page[page.length - 1]!.raw.raw_id
  }
  const report: RederiveReport = { source: source.name, dryRun, ...counts }
  yield* Effect.logInfo(dryRun ? "re-derivation (dry run): nothing kept" : "re-derivation done").pipe(
    Effect.annotateLogs({ ...report })
  )
  return report
})
