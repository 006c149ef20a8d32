/**
 * What each `sluice` command does, as plain Effects (Cli.ts only parses arguments): load and check
 * the config, open the store when needed, print results on stdout. Logs go to stderr (Logging.ts).
 */
import { existsSync } from "node:fs"
import { EventStore, type OutboxId } from "@sluice/core"
import { Clock, Console, Data, DateTime, Duration, Effect, Layer, type LogLevel, Option } from "effect"
import { type ConfigFileError, decodeConfig as decodeConfigFile, load } from "./ConfigFile.ts"
import * as DeadLetters from "./DeadLetters.ts"
import * as Logging from "./Logging.ts"
import { plan } from "./Plan.ts"
import * as Run from "./Run.ts"
import { chooseStore, describeStore, MigrationState, migrateOnly, storeLayer } from "./StoreLayer.ts"

/** The config file, or the defaults when it does not exist and `optional` (for store-only commands). */
const loadConfig = (file: string, optional: boolean) =>
  Effect.gen(function* () {
    if (optional && !existsSync(file)) {
      return { file, dir: process.cwd(), config: yield* decodeConfigFile(file, {}) }
    }
    return yield* load(file)
  })

/** Logging from the config, unless `--log-level` was given. */
const logging = (
  config: { readonly level: LogLevel.LogLevel; readonly format: Logging.LogFormat },
  override: Option.Option<LogLevel.LogLevel>
) =>
  Logging.layer(
    config.format,
    Option.getOrElse(override, () => config.level)
  )

/** `sluice validate FILE`: everything `run` checks before starting, without starting. */
export const validate = (file: string) =>
  Effect.gen(function* () {
    const checked = yield* Effect.flatMap(load(file), plan)
    const { config } = checked.loaded
    yield* Console.log(
      `${file} is valid: ${config.sources.length} source(s), ${config.transports.length} transport(s), ${config.routes.length} route(s); store: ${describeStore(yield* chooseStore(config.store))}`
    )
  })

/** `sluice run --config FILE`. */
export const run = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>
): Effect.Effect<never, Run.RunError | ConfigFileError> =>
  Effect.gen(function* () {
    const checked = yield* Effect.flatMap(load(file), plan)
    return yield* Run.run(checked).pipe(
      Effect.onInterrupt(() => Effect.logInfo("sluice stopped")),
      Effect.provide(logging(checked.loaded.config.logging, logLevel))
    )
  })

/**
 * Runs `f` with the configured store open as it is: no migration and no DDL (a missing or
 * unmigrated schema, or an empty data directory, is an error naming it), an embedded data
 * directory locked under `command`, with the config's logging.
 */
const withStore = <A, E, R>(
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  command: string,
  f: (store: EventStore["Service"]) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(file, true)
    const choice = yield* chooseStore(loaded.config.store)
    const open = storeLayer(choice, { command: `sluice ${command}`, migrate: false, viaAdmin: `sluice ${command}` })
    return yield* Effect.flatMap(EventStore, f).pipe(
      Effect.provide(open.pipe(Layer.provideMerge(logging(loaded.config.logging, logLevel))))
    )
  })

/** `sluice migrate`. */
export const migrate = (file: string, logLevel: Option.Option<LogLevel.LogLevel>) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(file, true)
    const choice = yield* chooseStore(loaded.config.store)
    const applied = yield* migrateOnly(choice).pipe(Effect.provide(logging(loaded.config.logging, logLevel)))
    yield* Console.log(
      applied.length === 0
        ? `${describeStore(choice)}: up to date`
        : `${describeStore(choice)}: applied ${applied.join(", ")}`
    )
  })

const age = (now: number, at: DateTime.Utc | null) =>
  at === null ? null : Math.max(0, Math.round((now - DateTime.toEpochMillis(at)) / 1000))

/** `sluice status`: backlog, lag, dead letters and per-route delivery rates (sampled over `sample`). */
export const status = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  options: { readonly json: boolean; readonly sample: Duration.Duration }
) =>
  withStore(file, logLevel, "status", (store) =>
    Effect.gen(function* () {
      const migrations = yield* MigrationState
      const before = yield* store.stats
      const start = yield* Clock.currentTimeMillis
      const sampleMs = Duration.toMillis(options.sample)
      const after = sampleMs > 0 ? yield* Effect.andThen(Effect.sleep(options.sample), store.stats) : before
      const now = yield* Clock.currentTimeMillis
      const seconds = Math.max((now - start) / 1000, 0.001)
      const routes = Object.entries(after.by_route).map(([route, s]) => ({
        route,
        pending: s.pending,
        leased: s.leased,
        delivered: s.delivered,
        dead: s.dead,
        oldest_pending_age_s: age(now, s.oldest_pending_at),
        delivered_per_s:
          sampleMs > 0
            ? Math.round(((s.delivered - (before.by_route[route]?.delivered ?? 0)) / seconds) * 100) / 100
            : null
      }))
      const report = {
        backlog: after.pending,
        leased: after.leased,
        delivered: after.delivered,
        dead_letters: after.dead,
        oldest_pending_age_s: age(now, after.oldest_pending_at),
        sample_s: sampleMs > 0 ? Math.round(seconds * 100) / 100 : 0,
        migrations: {
          applied: migrations.applied.length,
          known: migrations.applied.length + migrations.pending.length,
          pending: migrations.pending
        },
        routes
      }
      if (options.json) return yield* Console.log(JSON.stringify(report, null, 2))
      yield* Console.log(
        `backlog ${report.backlog} (leased ${report.leased}), lag ${report.oldest_pending_age_s ?? 0}s, dead letters ${report.dead_letters}, delivered ${report.delivered}`
      )
      for (const r of routes) {
        const rate = r.delivered_per_s === null ? "" : `, ${r.delivered_per_s}/s`
        yield* Console.log(
          `  ${r.route}: pending ${r.pending}, dead ${r.dead}, delivered ${r.delivered}${rate}, lag ${r.oldest_pending_age_s ?? 0}s`
        )
      }
      // Behind is not an error (a running older version works on it), but `run` of this one migrates.
      if (migrations.pending.length > 0) {
        yield* Console.log(
          `migrations: ${report.migrations.applied} of ${report.migrations.known} applied (pending: ${migrations.pending.join(", ")}); run sluice migrate`
        )
      }
    })
  )

/** `sluice dlq list`. */
export const dlqList = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  options: { readonly route: Option.Option<string>; readonly limit: number; readonly json: boolean }
) =>
  withStore(file, logLevel, "dlq list", (store) =>
    Effect.gen(function* () {
      const entries = yield* store.listOutbox({
        status: "dead",
        limit: options.limit,
        ...(Option.isSome(options.route) ? { route: options.route.value } : {})
      })
      const rows = entries.map(DeadLetters.toJson)
      if (options.json) return yield* Console.log(JSON.stringify(rows, null, 2))
      if (rows.length === 0) return yield* Console.log("no dead letters")
      for (const r of rows) {
        yield* Console.log(`${r.outbox_id}\t${r.route}\t${r.event_id}\tattempts ${r.attempts}\t${r.last_error ?? ""}`)
      }
    })
  )

/** The command line is well-formed but asks for something incomplete (exit code 2). */
export class UsageError extends Data.TaggedError("UsageError")<{ readonly reason: string }> {
  override get message() {
    return this.reason
  }
}

/** A dead letter that does not exist (exit code 1). */
export class DeadLetterNotFoundError extends Data.TaggedError("DeadLetterNotFoundError")<{ readonly id: string }> {
  override get message() {
    return `no dead letter with id ${this.id}`
  }
}

/** `sluice dlq show ID`. */
export const dlqShow = (file: string, logLevel: Option.Option<LogLevel.LogLevel>, id: string) =>
  withStore(file, logLevel, "dlq show", (store) =>
    Effect.gen(function* () {
      const found = yield* DeadLetters.show(store, id)
      if (Option.isNone(found)) return yield* Effect.fail(new DeadLetterNotFoundError({ id }))
      yield* Console.log(JSON.stringify(found.value, null, 2))
    })
  )

/** `sluice dlq replay`. */
export const dlqReplay = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  filter: {
    readonly ids: ReadonlyArray<string>
    readonly route: Option.Option<string>
    readonly eventType: Option.Option<string>
  }
) =>
  withStore(file, logLevel, "dlq replay", (store) =>
    Effect.gen(function* () {
      const replayed = yield* store.replay({
        ...(filter.ids.length > 0 ? { outbox_ids: filter.ids as ReadonlyArray<OutboxId> } : {}),
        ...(Option.isSome(filter.route) ? { route: filter.route.value } : {}),
        ...(Option.isSome(filter.eventType) ? { event_type: filter.eventType.value } : {})
      })
      yield* Console.log(`replayed ${replayed} dead letter(s)`)
    })
  )

/** `sluice dlq purge`. */
export const dlqPurge = (file: string, logLevel: Option.Option<LogLevel.LogLevel>, route: Option.Option<string>) =>
  withStore(file, logLevel, "dlq purge", (store) =>
    Effect.gen(function* () {
      const purged = yield* store.purgeDead(Option.isSome(route) ? { route: route.value } : {})
      yield* Console.log(`purged ${purged} dead letter(s)`)
    })
  )
