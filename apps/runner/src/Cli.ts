/**
 * The `sluice` command line, built with Effect's cli module: argument parsing, `--help` on every
 * command, and the handlers of Commands.ts.
 *
 * A few values are checked in the handlers, not with `Flag.filter`/`Flag.withSchema` (effect/cli has
 * no duration flag): `--limit` at least 1, `--sample` a finite duration, `--since` a time. Their
 * refusals are one line naming the flag with an example (`error: --limit: must be at least 1, got 0`),
 * where effect/cli would print `Invalid value for flag --limit: "0". Expected: ...` and a usage line.
 */
import { Console, Duration, Effect, Option } from "effect"
import { Argument, CliOutput, Command, Flag } from "effect/cli"
import * as CliFlags from "./CliFlags.ts"
import * as Commands from "./Commands.ts"
import { eventsCommand, rawCommand } from "./InspectCli.ts"
import { configJsonSchema } from "./JsonSchema.ts"
import { newPlugin } from "./NewPlugin.ts"
import * as ProjectionCommands from "./ProjectionCommands.ts"
import * as ProjectionReport from "./ProjectionReport.ts"
import * as Rederive from "./Rederive.ts"
import { routesCommand } from "./RouteCli.ts"
import { version } from "./Version.ts"

export { version }

const { config, json, route, logLevel, admin, token } = CliFlags

const run = Command.make("run", { config }, ({ config }) =>
  Effect.flatMap(logLevel, (level) => Commands.run(config, level))
).pipe(
  Command.withDescription(
    "Run sources, the relay and the admin server from a config file until SIGTERM/SIGINT (then drain and exit 0)"
  ),
  Command.withExamples([{ command: "sluice run --config examples/quickstart.json", description: "The quickstart" }])
)

const validate = Command.make(
  "validate",
  {
    config,
    // `sluice validate FILE` (before --config was taken) still works.
    file: Argument.String("file").pipe(
      Argument.withDescription("The config file to check (same as --config)"),
      Argument.optional
    )
  },
  ({ config, file }) => Commands.validate(Option.getOrElse(file, () => config))
).pipe(
  Command.withDescription("Check a config file and its plugins' options without starting anything (exit 2 if invalid)")
)

const migrate = Command.make("migrate", { config }, ({ config }) =>
  Effect.flatMap(logLevel, (level) => Commands.migrate(config, level))
).pipe(Command.withDescription("Apply pending database migrations to the configured store (run also does it on start)"))

const status = Command.make(
  "status",
  {
    config,
    json,
    sample: Flag.String("sample").pipe(
      Flag.withDescription('Measure delivery rates over this long ("0 seconds" to skip)'),
      Flag.withDefault("2 seconds")
    ),
    admin,
    token
  },
  ({ config, json, sample, admin, token }) =>
    Effect.gen(function* () {
      const window = Duration.fromInput(sample as Duration.Input)
      if (Option.isNone(window)) {
        return yield* new Commands.UsageError({
          reason: `--sample: not a duration: ${JSON.stringify(sample)} (e.g. "2 seconds", "500 millis")`
        })
      }
      // An infinite window would never print; a negative one means nothing.
      if (!Duration.isFinite(window.value) || Duration.isNegative(window.value)) {
        return yield* new Commands.UsageError({
          reason: `--sample: not a finite duration: ${JSON.stringify(sample)} (e.g. "2 seconds", "0 seconds" to skip)`
        })
      }
      const target = yield* Commands.adminTarget(admin, token)
      if (Option.isSome(target)) return yield* Commands.viaAdmin.status(target.value, { json, sample: window.value })
      return yield* Commands.status(config, yield* logLevel, { json, sample: window.value })
    })
).pipe(Command.withDescription("Show the outbox backlog, lag, dead letters and per-route delivery rates"))

const dlqList = Command.make(
  "list",
  {
    config,
    route,
    json,
    limit: Flag.Int("limit").pipe(Flag.withDescription("At most this many rows"), Flag.withDefault(100)),
    admin,
    token
  },
  ({ config, route, json, limit, admin, token }) =>
    Effect.gen(function* () {
      if (limit < 1) return yield* new Commands.UsageError({ reason: `--limit: must be at least 1, got ${limit}` })
      const target = yield* Commands.adminTarget(admin, token)
      if (Option.isSome(target)) return yield* Commands.viaAdmin.dlqList(target.value, { route, json, limit })
      return yield* Commands.dlqList(config, yield* logLevel, { route, json, limit })
    })
).pipe(Command.withDescription("List dead letters (oldest first)"))

const dlqShow = Command.make(
  "show",
  { config, id: Argument.String("id").pipe(Argument.withDescription("The dead letter's outbox id")), admin, token },
  ({ config, id, admin, token }) =>
    Effect.gen(function* () {
      const target = yield* Commands.adminTarget(admin, token)
      if (Option.isSome(target)) return yield* Commands.viaAdmin.dlqShow(target.value, id)
      return yield* Commands.dlqShow(config, yield* logLevel, id)
    })
).pipe(Command.withDescription("Show one dead letter with its event, as JSON"))

const dlqReplay = Command.make(
  "replay",
  {
    config,
    ids: Argument.String("id").pipe(Argument.withDescription("Outbox ids to replay"), Argument.variadic()),
    route,
    eventType: Flag.String("event-type").pipe(
      Flag.withDescription("Only dead letters of this event type"),
      Flag.optional
    ),
    all: Flag.Boolean("all").pipe(Flag.withDescription("Replay every dead letter"), Flag.withDefault(false)),
    admin,
    token
  },
  ({ config, ids, route, eventType, all, admin, token }) =>
    Effect.gen(function* () {
      if (ids.length === 0 && Option.isNone(route) && Option.isNone(eventType) && !all) {
        return yield* new Commands.UsageError({ reason: "dlq replay needs ids, --route, --event-type or --all" })
      }
      const target = yield* Commands.adminTarget(admin, token)
      if (Option.isSome(target)) return yield* Commands.viaAdmin.dlqReplay(target.value, { ids, route, eventType })
      return yield* Commands.dlqReplay(config, yield* logLevel, { ids, route, eventType })
    })
).pipe(
  Command.withDescription(
    "Move dead letters back to pending (attempts reset, history kept): by id, --route, --event-type, or --all (exit 1 naming the ids that are not dead letters)"
  )
)

const dlqPurge = Command.make(
  "purge",
  {
    config,
    route,
    yes: Flag.Boolean("yes").pipe(
      Flag.withDescription("Confirm: dead rows are deleted for good"),
      Flag.withDefault(false)
    ),
    admin,
    token
  },
  ({ config, route, yes, admin, token }) =>
    Effect.gen(function* () {
      if (!yes) return yield* new Commands.UsageError({ reason: "dlq purge deletes dead letters for good: add --yes" })
      const target = yield* Commands.adminTarget(admin, token)
      if (Option.isSome(target)) return yield* Commands.viaAdmin.dlqPurge(target.value, route)
      return yield* Commands.dlqPurge(config, yield* logLevel, route)
    })
).pipe(Command.withDescription("Delete dead letters (their events stay in the immutable log); needs --yes"))

const dlq = Command.make("dlq").pipe(
  Command.withDescription("Inspect, replay and purge dead letters"),
  Command.withSubcommands([dlqList, dlqShow, dlqReplay, dlqPurge])
)

const schema = Command.make("schema", {}, () => Console.log(JSON.stringify(configJsonSchema(), null, 2))).pipe(
  Command.withDescription(
    "Print the JSON Schema of the config file (for editors: sluice config schema > sluice.schema.json)"
  )
)

const configCommand = Command.make("config").pipe(
  Command.withDescription("Config file tools"),
  Command.withSubcommands([schema])
)

const plugin = Command.make(
  "plugin",
  {
    name: Argument.String("name").pipe(
      Argument.withDescription("The package name, scoped or not (e.g. my-transport, @acme/kafka-transport)")
    ),
    kind: Flag.Literals("kind", ["source", "transport"]).pipe(
      Flag.withDescription("A source (fetches data, makes events) or a transport (delivers events)")
    ),
    dir: Flag.String("dir").pipe(
      Flag.withDescription("Where to create the package: in DIR/<NAME's last segment>"),
      Flag.withDefault(".")
    )
  },
  newPlugin
).pipe(
  Command.withDescription(
    "Create a plugin package: package.json with effect and @sluice/core as peers, Plugin.define with an options Schema, a test (the transport contract suite, or the source on the in-memory store), a README"
  ),
  Command.withExamples([
    { command: "sluice new plugin my-transport --kind transport", description: "A transport in ./my-transport" },
    {
      command: "sluice new plugin @acme/quotes --kind source --dir plugins",
      description: "A source in ./plugins/quotes"
    }
  ])
)

const newCommand = Command.make("new").pipe(
  Command.withDescription("Create a new plugin package"),
  Command.withSubcommands([plugin])
)

const projectionName = Argument.String("name").pipe(
  Argument.withDescription("The projection's name in the config file (its `projections` entry)")
)

const projectionRebuild = Command.make("rebuild", { config, name: projectionName }, ({ config, name }) =>
  Effect.flatMap(logLevel, (level) => ProjectionCommands.rebuild(config, name, level))
).pipe(
  Command.withDescription(
    "Empty a projection's read model and reset its checkpoint (one transaction), then replay the whole log into it; prints the counts. Stop a sluice run on the same embedded store first (on PostgreSQL a running one notices and starts over)"
  )
)

const projectionShow = Command.make(
  "show",
  {
    config,
    name: projectionName,
    json,
    limit: Flag.Int("limit").pipe(
      Flag.withDescription(`At most this many rows per table (1..${ProjectionReport.maxShowLimit})`),
      Flag.withDefault(ProjectionReport.defaultShowLimit)
    ),
    admin,
    token
  },
  ({ config, name, json, limit, admin, token }) =>
    Effect.gen(function* () {
      const target = yield* Commands.adminTarget(admin, token)
      return yield* ProjectionCommands.show(config, name, yield* logLevel, {
        json,
        limit,
        admin: Option.getOrUndefined(target)
      })
    })
).pipe(Command.withDescription("Show a projection's checkpoint, lag and the newest rows of its read model"))

const projectionCommand = Command.make("projection").pipe(
  Command.withDescription("Rebuild or inspect the config's projections (read models kept from the log)"),
  Command.withSubcommands([projectionRebuild, projectionShow])
)

/** The root command. */
const rederive = Command.make(
  "rederive",
  {
    config,
    json,
    source: Flag.String("source").pipe(Flag.withDescription("The source instance whose raw payloads to re-derive")),
    since: Flag.String("since").pipe(
      Flag.withDescription(
        "Only payloads received at or after this ISO-8601 date or time (2020-01-01, 2020-01-01T12:00:00Z)"
      ),
      Flag.optional
    ),
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Count what would happen, keep nothing"),
      Flag.withDefault(false)
    )
  },
  ({ config, json, source, since, dryRun }) =>
    Effect.flatMap(logLevel, (level) => Rederive.rederive(config, level, { source, since, dryRun, json }))
).pipe(
  Command.withDescription(
    "Re-run a source's current transformer over its stored raw payloads: append what is new or corrected, resolve payloads that failed before"
  )
)

const prune = Command.make(
  "prune",
  {
    config,
    json,
    dryRun: Flag.Boolean("dry-run").pipe(
      Flag.withDescription("Count what the retention policy would delete, delete nothing"),
      Flag.withDefault(false)
    )
  },
  ({ config, json, dryRun }) => Effect.flatMap(logLevel, (level) => Commands.prune(config, level, { dryRun, json }))
).pipe(
  Command.withDescription(
    "Apply the config's retention once: delete delivered and dead outbox rows older than their age (in batches, then VACUUM), and raw payloads if retention.raw opts in; prints the counts. Events are never deleted"
  )
)

export const sluice = Command.make("sluice").pipe(
  Command.withDescription(
    "Sluice event-ingestion runner. Exit codes: 0 ok (also after a graceful SIGTERM/SIGINT), 1 runtime failure, 2 usage or config error, 130/143 second signal"
  ),
  Command.withSubcommands([
    run,
    validate,
    migrate,
    status,
    dlq,
    routesCommand,
    eventsCommand,
    rawCommand,
    configCommand,
    newCommand,
    projectionCommand,
    rederive,
    prune
  ])
)

/**
 * Usage errors print like every other error, on stderr as `error: ...`, plus where to find the
 * usage; the full help is printed only when asked for (`--help`, or a command that needs a subcommand).
 */
const presenter: CliOutput.Presenter = {
  present: (event) =>
    event._tag === "InvalidInvocation"
      ? Console.error(
          [
            ...event.errors.map((error) => `error: ${error.message}`),
            `usage: ${event.commandPath.join(" ")} --help`
          ].join("\n")
        )
      : CliOutput.defaultPresenter.present(event)
}

/** Runs the CLI on `args` (without the node and script paths). */
export const cli = (args: ReadonlyArray<string>) =>
  Command.runWith(sluice, { version })(args).pipe(Effect.provideService(CliOutput.Presenter, presenter))
