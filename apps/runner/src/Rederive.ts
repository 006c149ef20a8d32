/**
 * `sluice rederive --source NAME [--since T] [--dry-run]`: re-runs a configured source's current
 * transformer over the raw payloads it stored (core's Rederive), appending only what is new or
 * corrected, and prints the counts. The store is migrated first, as `run` does; the source's plugin
 * is started (its transformer is what runs) but nothing is fetched and nothing is published: the
 * outbox rows of new and corrected events wait for the relay of `sluice run`.
 */
import { makeRouter, Rederive, Sources, type StoreError } from "@sluice/core"
import { Console, DateTime, Effect, Layer, type LogLevel, Option, Schema } from "effect"
import { UsageError } from "./Commands.ts"
import type { ConfigFileError } from "./ConfigFile.ts"
import * as Logging from "./Logging.ts"
import { loadPlan } from "./Plan.ts"
import { pluginLayer, type RunError } from "./Run.ts"
import { chooseStore, storeLayer } from "./StoreLayer.ts"

export interface RederiveFlags {
  readonly source: string
  readonly since: Option.Option<string>
  readonly dryRun: boolean
  readonly json: boolean
}

/** `--since`: an ISO-8601 date (`2020-01-01`, midnight UTC) or time with a zone (`2020-01-01T12:00:00Z`). */
export const parseSince = (text: string): Effect.Effect<DateTime.Utc, UsageError> => {
  const ok = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.test(text)
  const parsed = ok ? DateTime.make(text.length === 10 ? `${text}T00:00:00Z` : text) : Option.none()
  return Option.match(
    Option.filter(parsed, (d) => !Number.isNaN(DateTime.toEpochMillis(d))),
    {
      onNone: () =>
        Effect.fail(
          new UsageError({
            reason: `--since: ${JSON.stringify(text)} is not a time; give an ISO-8601 date (2020-01-01) or time with a zone (2020-01-01T12:00:00Z)`
          })
        ),
      onSome: (d) => Effect.succeed(DateTime.toUtc(d))
    }
  )
}

/** The report as `--json` prints it (snake_case: a wire format). */
export const reportJson = Schema.encodeSync(
  Schema.Struct({
    source: Schema.String,
    dryRun: Schema.Boolean,
    payloads: Schema.Number,
    eventsNew: Schema.Number,
    corrected: Schema.Number,
    duplicates: Schema.Number,
    outdated: Schema.Number,
    unkeyed: Schema.Number,
    stillFailing: Schema.Number,
    nowFailing: Schema.Number,
    fixed: Schema.Number,
    unresolvable: Schema.Number
  }).pipe(
    Schema.encodeKeys({
      dryRun: "dry_run",
      eventsNew: "events_new",
      stillFailing: "still_failing",
      nowFailing: "now_failing"
    })
  )
)

/** The report in words, one count a line. */
export const reportText = (r: Rederive.RederiveReport): string =>
  [
    `${r.dryRun ? "dry run (nothing kept): " : ""}source ${r.source}: ${r.payloads} raw payload(s) read`,
    `  events new:     ${r.eventsNew}`,
    `  corrected:      ${r.corrected}`,
    `  duplicates:     ${r.duplicates}`,
    `  outdated:       ${r.outdated}`,
    `  without key:    ${r.unkeyed}`,
    `  still failing:  ${r.stillFailing}`,
    `  now failing:    ${r.nowFailing}`,
    `  now fixed:      ${r.fixed}`,
    `  unresolvable:   ${r.unresolvable}`
  ].join("\n")

/** Runs the command for the config `file`. */
export const rederive = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  flags: RederiveFlags
): Effect.Effect<void, UsageError | ConfigFileError | RunError | StoreError> =>
  Effect.gen(function* () {
    const since = Option.isSome(flags.since) ? yield* parseSince(flags.since.value) : undefined
    const plan = yield* loadPlan(file)
    const { config } = plan.loaded
    const names = plan.sources.map((s) => s.config.name)
    if (!names.includes(flags.source))
      return yield* new UsageError({
        reason: `--source: no source named ${JSON.stringify(flags.source)} in ${file} (sources: ${names.join(", ") || "none"})`
      })
    const choice = yield* chooseStore(config.store)
    const report = yield* Effect.gen(function* () {
      const source = (yield* (yield* Sources).all).find((s) => s.name === flags.source)
      if (source === undefined)
        return yield* new UsageError({ reason: `the plugin of ${flags.source} registered no source by that name` })
      const router = yield* makeRouter(config.routes).pipe(Effect.orDie) // checked with the config
      return yield* Rederive.rederive(source, router, {
        dryRun: flags.dryRun,
        ...(since === undefined ? {} : { since })
      })
    }).pipe(
      Effect.provide(
        Layer.mergeAll(storeLayer(choice, { command: "sluice rederive", migrate: true }), pluginLayer(plan)).pipe(
          Layer.provideMerge(
            Logging.layer(
              config.logging.format,
              Option.getOrElse(logLevel, () => config.logging.level)
            )
          )
        )
      )
    )
    yield* Console.log(flags.json ? JSON.stringify(reportJson(report), null, 2) : reportText(report))
  })
