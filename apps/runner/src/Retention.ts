/**
 * The runner's retention: the config's `retention` section as core's policies, the prune that
 * `sluice run` repeats on a schedule (logged as structured JSON, never fatal), and the report that
 * `sluice prune [--dry-run]` (Commands.ts) prints.
 */
import {
  OutboxAdmin,
  type PruneReport,
  RawPayloadStore,
  type RawPruneReport,
  type RawRetentionPolicy,
  type RetentionPolicy,
  type RouteRetention
} from "@sluice/core"
import { type Duration, Effect, Schedule, Schema } from "effect"
import { type RetentionConfig, toDuration } from "./Config.ts"

const age = (text: string | null): Duration.Duration | null => (text === null ? null : toDuration(text))

/** The outbox policy of a `retention` section. */
export const outboxPolicy = (config: RetentionConfig, dryRun = false): RetentionPolicy => ({
  delivered: age(config.delivered),
  dead: age(config.dead),
  routes: Object.fromEntries(
    Object.entries(config.routes).map(([route, r]): [string, RouteRetention] => [
      route,
      {
        ...(r.delivered === undefined ? {} : { delivered: age(r.delivered) }),
        ...(r.dead === undefined ? {} : { dead: age(r.dead) })
      }
    ])
  ),
  batchSize: config.batchSize,
  dryRun
})

/** The raw payload policy of a `retention` section, if it opts in. */
export const rawPolicy = (config: RetentionConfig, dryRun = false): RawRetentionPolicy | undefined =>
  config.raw === undefined
    ? undefined
    : { olderThan: toDuration(config.raw.olderThan), batchSize: config.batchSize, dryRun }

/** What one prune did: the outbox's report, and the raw payloads' (or why they were left). */
export interface RetentionReport {
  readonly outbox: PruneReport
  readonly raw: RawPruneReport | { readonly skipped: string }
}

const Counts = Schema.Struct({ delivered: Schema.Number, dead: Schema.Number })

/** The outbox's report as `sluice prune --json` prints it (snake_case: a wire format). */
const OutboxJson = Schema.Struct({
  delivered: Schema.Number,
  dead: Schema.Number,
  byRoute: Schema.Record(Schema.String, Counts),
  dryRun: Schema.Boolean,
  batches: Schema.Number
}).pipe(Schema.encodeKeys({ byRoute: "by_route", dryRun: "dry_run" }))

const RawJson = Schema.Union([
  Schema.Struct({ dryRun: Schema.Boolean, deleted: Schema.Number, batches: Schema.Number }).pipe(
    Schema.encodeKeys({ dryRun: "dry_run" })
  ),
  Schema.Struct({ skipped: Schema.String })
])

/**
 * The report as JSON, `{ outbox, raw }` in the wire's snake_case: what `sluice prune --json` prints;
 * `sluice run` logs its `raw`.
 */
export const reportJson = Schema.encodeSync(Schema.Struct({ outbox: OutboxJson, raw: RawJson }))

/**
 * One prune of the outbox, then of the raw payloads when the section opts in. A raw policy refused
 * because events are pending is reported (the outbox prune still counts), not failed.
 */
export const pruneOnce = (config: RetentionConfig, dryRun: boolean) =>
  Effect.gen(function* () {
    const outbox = yield* OutboxAdmin.use((admin) => admin.prune(outboxPolicy(config, dryRun)))
    const policy = rawPolicy(config, dryRun)
    const raw =
      policy === undefined
        ? { skipped: "no retention.raw: raw payloads are kept" }
        : yield* RawPayloadStore.use((store) => store.pruneRaw(policy)).pipe(
            Effect.catchTag("RawPayloadsPendingError", (error) => Effect.succeed({ skipped: error.message }))
          )
    return { outbox, raw } satisfies RetentionReport
  })

/**
 * `sluice run`'s scheduled prune: at start, then every `retention.every`. Each prune is logged
 * with its counts; a failure is logged and the next prune comes on schedule.
 */
export const scheduled = (config: RetentionConfig) =>
  pruneOnce(config, false).pipe(
    Effect.tap((report) =>
      // Annotations: top-level keys of the JSON line, so log queries can read the counts.
      Effect.logInfo("retention: pruned").pipe(
        Effect.annotateLogs({
          delivered: report.outbox.delivered,
          dead: report.outbox.dead,
          by_route: report.outbox.byRoute,
          batches: report.outbox.batches,
          raw: reportJson(report).raw
        })
      )
    ),
    Effect.catchCause((cause) => Effect.logError("retention: prune failed; the next one runs on schedule", cause)),
    Effect.repeat(Schedule.spaced(toDuration(config.every))),
    Effect.asVoid
  )

/** The report in words. */
export const reportText = (report: RetentionReport): string => {
  const { outbox, raw } = report
  const verb = outbox.dryRun ? "would delete" : "deleted"
  const lines = [
    `${outbox.dryRun ? "dry run (nothing deleted): " : ""}outbox rows ${verb}: ${outbox.delivered} delivered, ${outbox.dead} dead`,
    ...Object.entries(outbox.byRoute).map(([route, c]) => `  route ${route}: ${c.delivered} delivered, ${c.dead} dead`)
  ]
  lines.push("skipped" in raw ? `raw payloads: none deleted (${raw.skipped})` : `raw payloads ${verb}: ${raw.deleted}`)
  return lines.join("\n")
}
