/**
 * What each `sluice` command does, as plain Effects (Cli.ts only parses arguments): load and check
 * the config, open the store when needed, print results on stdout. Logs go to stderr (Logging.ts).
 */
import { existsSync } from "node:fs"
import { EventStore, OutboxAdmin } from "@sluice/core"
import { Config, Console, Data, Duration, Effect, Layer, type LogLevel, Option, type Redacted } from "effect"
import { maxSampleMs } from "./Admin.ts"
import * as AdminClient from "./AdminClient.ts"
import {
  type ConfigFileError,
  decodeConfig as decodeConfigFile,
  type LoadedConfig,
  load,
  locate
} from "./ConfigFile.ts"
import * as DeadLetters from "./DeadLetters.ts"
import * as Logging from "./Logging.ts"
import { loadPlan } from "./Plan.ts"
import * as Retention from "./Retention.ts"
import * as Run from "./Run.ts"
import * as StatusReport from "./StatusReport.ts"
import { chooseStore, describeStore, MigrationState, migrateOnly, storeLayer } from "./StoreLayer.ts"
import * as SubscriberStatus from "./SubscriberStatus.ts"

/**
 * The config file for the commands that publish nothing (migrate, status, dlq): only its store,
 * admin and logging sections need their `${NAME}`s set, and plugins are not loaded. Without the
 * file (when `optional`) the defaults apply, paths relative to the working directory.
 */
const loadConfig = (file: string, optional: boolean) =>
  Effect.gen(function* () {
    if (optional && !existsSync(file)) {
      return locate(file, process.cwd(), yield* decodeConfigFile(file, {}, "store"))
    }
    return yield* load(file, "store")
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

/** `sluice validate [--config FILE]`: everything `run` checks before starting, without starting. */
export const validate = (file: string) =>
  Effect.gen(function* () {
    const checked = yield* loadPlan(file)
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
    const checked = yield* loadPlan(file)
    return yield* Run.run(checked).pipe(
      Effect.onInterrupt(() => Effect.logInfo("sluice stopped")),
      Effect.provide(logging(checked.loaded.config.logging, logLevel))
    )
  })

/**
 * The command line as typed, less its config flag: what to run with `--admin URL` next to a running
 * process, so that `dlq purge --yes --route r` keeps its flags.
 */
export const asTypedForAdmin = (args: ReadonlyArray<string> = process.argv.slice(2)): string => {
  const kept: Array<string> = []
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? ""
    if (arg === "--config" || arg === "-c") i++
    else if (!arg.startsWith("--config=")) kept.push(/^[\w@%+=:,./-]+$/.test(arg) ? arg : JSON.stringify(arg))
  }
  return `sluice ${kept.join(" ")}`
}

/**
 * Runs `f` with the configured store open as it is: no migration and no DDL (a missing or
 * unmigrated schema, or an empty data directory, is an error naming it), an embedded data
 * directory locked under `command`, with the config's logging. `f` gets the store's outbox admin
 * port and the config; the store's other services are in its context.
 */
/** Runs `f` on the store the config file names, opened without migrating (as `status` and `dlq` do). */
export const withStore = <A, E, R>(
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  command: string,
  f: (store: OutboxAdmin["Service"], config: LoadedConfig["config"]) => Effect.Effect<A, E, R>
) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(file, true)
    const choice = yield* chooseStore(loaded.config.store)
    const open = storeLayer(choice, { command: `sluice ${command}`, migrate: false, viaAdmin: asTypedForAdmin() })
    return yield* Effect.flatMap(OutboxAdmin, (store) => f(store, loaded.config)).pipe(
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

/**
 * `--admin URL` and `--token`: the running process to ask instead of opening the store. The token
 * defaults to the SLUICE_ADMIN_TOKEN environment variable.
 */
export const adminTarget = (
  admin: Option.Option<string>,
  token: Option.Option<Redacted.Redacted<string>>
): Effect.Effect<Option.Option<AdminClient.Target>, UsageError> =>
  Effect.gen(function* () {
    if (Option.isNone(admin)) {
      if (Option.isSome(token)) return yield* new UsageError({ reason: "--token goes with --admin URL" })
      return Option.none()
    }
    const url = URL.canParse(admin.value) ? new URL(admin.value) : undefined
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
      return yield* new UsageError({
        reason: `--admin: expected the admin API's URL (e.g. http://127.0.0.1:9464), got ${JSON.stringify(admin.value)}`
      })
    }
    const fromEnv = yield* Config.option(Config.Redacted("SLUICE_ADMIN_TOKEN")).pipe(
      Effect.orElseSucceed(() => Option.none<Redacted.Redacted<string>>())
    )
    return Option.some({ url: admin.value, token: Option.orElse(token, () => fromEnv) })
  })

/** `sluice status`: backlog, lag, dead letters and per-route delivery rates (sampled over `sample`). */
export const status = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  options: { readonly json: boolean; readonly sample: Duration.Duration }
) =>
  withStore(file, logLevel, "status", (store, config) =>
    Effect.gen(function* () {
      // The config's projections are listed even before their first checkpoint. A schema behind
      // the subscriptions migration has none to report (the report says to migrate).
      const subscriptions = yield* SubscriberStatus.measure(config.projections.map((p) => p.name)).pipe(
        Effect.orElseSucceed(() => undefined)
      )
      const report = yield* StatusReport.measure(store, options.sample, yield* MigrationState, subscriptions)
      return yield* StatusReport.print(report, options.json)
    })
  )

/** `sluice dlq list`. */
export const dlqList = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  options: { readonly route: Option.Option<string>; readonly limit: number; readonly json: boolean }
) =>
  withStore(file, logLevel, "dlq list", (store) =>
    Effect.flatMap(
      DeadLetters.page(store, { limit: options.limit, route: Option.getOrUndefined(options.route) }),
      (page) => DeadLetters.printPage(page, options.json)
    )
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
      const found = yield* DeadLetters.show(store, yield* EventStore, id)
      if (Option.isNone(found)) return yield* Effect.fail(new DeadLetterNotFoundError({ id }))
      yield* Console.log(JSON.stringify(found.value, null, 2))
    })
  )

/** `dlq replay` of ids that are not dead letters (exit code 1, like `dlq show` of an unknown id). */
export class NotDeadLettersError extends Data.TaggedError("NotDeadLettersError")<{
  readonly ids: ReadonlyArray<string>
}> {
  override get message() {
    return `not dead letters: ${this.ids.join(", ")}`
  }
}

/**
 * `sluice dlq replay`. Ids that are not dead letters (unknown, not dead, or not of `--route`) are
 * named, and the command exits 1 after replaying the others.
 */
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
    Effect.flatMap(DeadLetters.replay(store, replayFilter(filter)), printReplayed)
  )

/** `dlq replay`'s flags as a filter. */
const replayFilter = (filter: {
  readonly ids: ReadonlyArray<string>
  readonly route: Option.Option<string>
  readonly eventType: Option.Option<string>
}): DeadLetters.ReplayFilter => ({
  ids: filter.ids,
  route: Option.getOrUndefined(filter.route),
  eventType: Option.getOrUndefined(filter.eventType)
})

/** Prints a replay's count; ids that were not dead letters then fail the command (exit 1). */
const printReplayed = (result: DeadLetters.Replayed) =>
  Effect.gen(function* () {
    yield* Console.log(`replayed ${result.replayed} dead letter(s)`)
    if (result.not_dead_letters.length > 0) return yield* new NotDeadLettersError({ ids: result.not_dead_letters })
  })

/** `sluice dlq purge`. */
export const dlqPurge = (file: string, logLevel: Option.Option<LogLevel.LogLevel>, route: Option.Option<string>) =>
  withStore(file, logLevel, "dlq purge", (store) =>
    Effect.gen(function* () {
      const purged = yield* store.purgeDead(Option.isSome(route) ? { route: route.value } : {})
      yield* Console.log(`purged ${purged} dead letter(s)`)
    })
  )

/**
 * `sluice prune [--dry-run] [--json]`: the config's retention once, printed. It writes, so the store
 * is migrated first, as `run` does (raw payload retention needs migration 0007); plugins are not
 * loaded. On an embedded store, `sluice run` holds the data directory: stop it first (its
 * scheduled prune does the same).
 */
export const prune = (
  file: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  flags: { readonly dryRun: boolean; readonly json: boolean }
) =>
  Effect.gen(function* () {
    const loaded = yield* loadConfig(file, false)
    const choice = yield* chooseStore(loaded.config.store)
    const report = yield* Retention.pruneOnce(loaded.config.retention, flags.dryRun).pipe(
      Effect.provide(
        storeLayer(choice, { command: "sluice prune", migrate: true }).pipe(
          Layer.provideMerge(logging(loaded.config.logging, logLevel))
        )
      )
    )
    yield* Console.log(
      flags.json ? JSON.stringify(Retention.reportJson(report), null, 2) : Retention.reportText(report)
    )
  })

/**
 * The same commands through a running process's admin API (`--admin URL`): they print what the
 * commands above print and fail the same way (an unknown id exits 1), without opening the store.
 */
export const viaAdmin = {
  status: (target: AdminClient.Target, options: { readonly json: boolean; readonly sample: Duration.Duration }) =>
    Effect.gen(function* () {
      if (Duration.toMillis(options.sample) > maxSampleMs) {
        return yield* new UsageError({ reason: `--sample: at most ${maxSampleMs / 1000} seconds with --admin` })
      }
      return yield* StatusReport.print(yield* AdminClient.status(target, options.sample), options.json)
    }),
  dlqList: (
    target: AdminClient.Target,
    options: { readonly route: Option.Option<string>; readonly limit: number; readonly json: boolean }
  ) => Effect.flatMap(AdminClient.list(target, options), (page) => DeadLetters.printPage(page, options.json)),
  dlqShow: (target: AdminClient.Target, id: string) =>
    Effect.gen(function* () {
      const found = yield* AdminClient.show(target, id)
      if (Option.isNone(found)) return yield* Effect.fail(new DeadLetterNotFoundError({ id }))
      yield* DeadLetters.printShown(found.value)
    }),
  dlqReplay: (
    target: AdminClient.Target,
    filter: {
      readonly ids: ReadonlyArray<string>
      readonly route: Option.Option<string>
      readonly eventType: Option.Option<string>
    }
  ) => Effect.flatMap(AdminClient.replay(target, replayFilter(filter)), printReplayed),
  dlqPurge: (target: AdminClient.Target, route: Option.Option<string>) =>
    Effect.flatMap(AdminClient.purge(target, route), (purged) => Console.log(`purged ${purged} dead letter(s)`))
}
