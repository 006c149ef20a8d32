/**
 * The report of `sluice status` (backlog, lag, dead letters, per-route delivery rates, each
 * subscriber's checkpoint and lag), measured from the store and printed as text or JSON. The admin API's `GET /api/status` answers the same
 * report, so `sluice status --admin URL` prints exactly what `sluice status` does.
 */
import type { OutboxAdmin } from "@sluice/core"
import { Clock, Console, DateTime, Duration, Effect, Schema } from "effect"
import { lagText, SubscriberStatus } from "./SubscriberStatus.ts"

const Seconds = Schema.NullOr(Schema.Number)

/** The report, as printed by `status --json` and answered by `GET /api/status`. */
export const StatusReport = Schema.Struct({
  backlog: Schema.Number,
  leased: Schema.Number,
  delivered: Schema.Number,
  dead_letters: Schema.Number,
  oldest_pending_age_s: Seconds,
  sample_s: Schema.Number,
  /** The bundled migrations the schema has (absent where the store has none to report). */
  migrations: Schema.optionalKey(
    Schema.Struct({ applied: Schema.Number, known: Schema.Number, pending: Schema.Array(Schema.String) })
  ),
  routes: Schema.Array(
    Schema.Struct({
      route: Schema.String,
      pending: Schema.Number,
      leased: Schema.Number,
      delivered: Schema.Number,
      dead: Schema.Number,
      oldest_pending_age_s: Seconds,
      delivered_per_s: Seconds
    })
  ),
  /** Each subscriber's checkpoint and lag (absent where the store has no subscriptions to report). */
  subscriptions: Schema.optionalKey(Schema.Array(SubscriberStatus))
})
export type StatusReport = typeof StatusReport.Type

const age = (now: number, at: DateTime.Utc | null) =>
  at === null ? null : Math.max(0, Math.round((now - DateTime.toEpochMillis(at)) / 1000))

/** The migrations a store was opened with (StoreLayer's MigrationState). */
export interface Migrations {
  readonly applied: ReadonlyArray<string>
  readonly pending: ReadonlyArray<string>
}

/** Reads the store's stats twice, `sample` apart (once when it is zero), into a report. */
export const measure = (
  store: OutboxAdmin["Service"],
  sample: Duration.Duration,
  migrations?: Migrations,
  subscriptions?: ReadonlyArray<SubscriberStatus>
) =>
  Effect.gen(function* () {
    const before = yield* store.stats
    const start = yield* Clock.currentTimeMillis
    const sampleMs = Duration.toMillis(sample)
    const after = sampleMs > 0 ? yield* Effect.andThen(Effect.sleep(sample), store.stats) : before
    const now = yield* Clock.currentTimeMillis
    const seconds = Math.max((now - start) / 1000, 0.001)
    const routes = Object.entries(after.byRoute).map(([route, s]) => ({
      route,
      pending: s.pending,
      leased: s.leased,
      delivered: s.delivered,
      dead: s.dead,
      oldest_pending_age_s: age(now, s.oldestPendingAt),
      delivered_per_s:
        sampleMs > 0
          ? Math.round(((s.delivered - (before.byRoute[route]?.delivered ?? 0)) / seconds) * 100) / 100
          : null
    }))
    const report: StatusReport = {
      backlog: after.pending,
      leased: after.leased,
      delivered: after.delivered,
      dead_letters: after.dead,
      oldest_pending_age_s: age(now, after.oldestPendingAt),
      sample_s: sampleMs > 0 ? Math.round(seconds * 100) / 100 : 0,
      ...(migrations === undefined
        ? {}
        : {
            migrations: {
              applied: migrations.applied.length,
              known: migrations.applied.length + migrations.pending.length,
              pending: migrations.pending
            }
          }),
      routes,
      ...(subscriptions === undefined ? {} : { subscriptions })
    }
    return report
  })

/** Prints the report on stdout: JSON with `json`, else a summary line and one line per route. */
export const print = (report: StatusReport, json: boolean) =>
  Effect.gen(function* () {
    if (json) return yield* Console.log(JSON.stringify(report, null, 2))
    yield* Console.log(
      `backlog ${report.backlog} (leased ${report.leased}), lag ${report.oldest_pending_age_s ?? 0}s, dead letters ${report.dead_letters}, delivered ${report.delivered}`
    )
    for (const r of report.routes) {
      const rate = r.delivered_per_s === null ? "" : `, ${r.delivered_per_s}/s`
      yield* Console.log(
        `  ${r.route}: pending ${r.pending}, dead ${r.dead}, delivered ${r.delivered}${rate}, lag ${r.oldest_pending_age_s ?? 0}s`
      )
    }
    for (const s of report.subscriptions ?? []) {
      const at = s.checkpoint === null ? "no checkpoint yet" : `checkpoint ${s.checkpoint}`
      const oldest = s.oldest_unprocessed_age_s === null ? "" : `, oldest unprocessed ${s.oldest_unprocessed_age_s}s`
      yield* Console.log(`  subscription ${s.name}: ${at}, lag ${lagText(s)} event(s)${oldest}`)
    }
    // Behind is not an error (a running older version works on it), but `run` of this one migrates.
    const m = report.migrations
    if (m !== undefined && m.pending.length > 0) {
      yield* Console.log(
        `migrations: ${m.applied} of ${m.known} applied (pending: ${m.pending.join(", ")}); run sluice migrate`
      )
    }
  })
