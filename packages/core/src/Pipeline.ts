/**
 * A pipeline from one description: sources (with their schedules), routes written once, and the
 * relay that delivers them. The runner builds one from its config file; code builds one with `make`.
 *
 * `start` runs it in the current scope: relay workers first, then one ingest loop per source.
 * Closing the scope stops them in reverse: ingest stops first (no new rows), then the relay drains
 * its batches in flight within its grace period. A loop that ends on its own (a defect, a source
 * that interrupts itself) is logged with its source's name instead of vanishing.
 */
import { Cause, Data, Duration, Effect, Option, Schema, SchemaIssue, type Scope } from "effect"
import type { EventStore } from "./EventStore.ts"
import * as Ingest from "./Ingest.ts"
import { InvalidSettingError, settingCount, settingDuration } from "./InvalidSetting.ts"
import type { OutboxQueue } from "./OutboxQueue.ts"
import * as Relay from "./Relay.ts"
import { settingsOf } from "./RelaySettings.ts"
import { type DuplicateRouteError, makeRouter, Route, type Router } from "./Routing.ts"
import type { Source } from "./Source.ts"
import { Sources } from "./Sources.ts"
import { Transports, type UnknownTransportError } from "./Transports.ts"

/** A source and how often to tick it. */
export interface SourceSchedule {
  /** The source itself, or the name of one registered in `Sources` (a plugin instance). */
  readonly source: Source | string
  /** Time between ticks. @default the source's own `pollInterval`, else 1 minute */
  readonly every?: Duration.Input
  /** Largest wait after consecutive failed ticks. @default 5 minutes */
  readonly maxBackoff?: Duration.Input
}

/** The relay's options, less the routes (the pipeline's own). */
export type RelaySection = Omit<Relay.StartOptions, "routes">

/** What `make` takes. */
export interface PipelineOptions {
  /** Where events go: used both to write outbox rows at ingest and by the relay. */
  readonly routes: ReadonlyArray<Route>
  /**
   * What to ingest. A bare `Source` ticks at its own `pollInterval` (else every minute).
   * @default every source registered in `Sources`, each at its own `pollInterval` (else every minute)
   */
  readonly sources?: ReadonlyArray<Source | SourceSchedule>
  /**
   * The relay's options, or `false` for no relay here (another process delivers). With no routes
   * there is nothing to deliver and no relay starts. @default {} (the relay's defaults)
   */
  readonly relay?: RelaySection | false
}

/** A validated pipeline description: what `start` and `run` take. */
export interface Pipeline {
  readonly router: Router
  /** `undefined`: every registered source, at its own interval. */
  readonly sources: ReadonlyArray<SourceSchedule> | undefined
  readonly relay: Relay.StartOptions | undefined
}

/** A source named by a pipeline is not registered in `Sources`. */
export class UnknownSourceError extends Data.TaggedError("UnknownSourceError")<{
  readonly source: string
  readonly registered: ReadonlyArray<string>
}> {
  override get message() {
    const known = this.registered.length === 0 ? "none is registered" : `registered: ${this.registered.join(", ")}`
    return `pipeline source ${JSON.stringify(this.source)} is not registered (${known})`
  }
}

/** What a started pipeline runs. */
export interface PipelineHandle {
  /** The names of the sources being ingested. */
  readonly sources: ReadonlyArray<string>
  /** The relay workers, when this pipeline delivers. */
  readonly relay: Option.Option<Relay.RelayHandle>
}

const scheduleName = (schedule: SourceSchedule): string =>
  typeof schedule.source === "string" ? schedule.source : schedule.source.name

/** Checks every option that cannot work now, so `start` cannot die on one later. */
const validate = (options: PipelineOptions, router: Router): Pipeline => {
  const sources = options.sources?.map((s): SourceSchedule => ("source" in s ? s : { source: s }))
  for (const schedule of sources ?? []) {
    const owner = `ingest (source ${scheduleName(schedule)})`
    if (schedule.every !== undefined) settingDuration(owner, "every", schedule.every, { least: 1, infinite: false })
    if (schedule.maxBackoff !== undefined)
      settingDuration(owner, "maxBackoff", schedule.maxBackoff, { least: 1, infinite: true })
  }
  // Checked with no routes too (no relay runs then): a bad setting is a bug whether or not it bites today.
  if (options.relay !== false) {
    const given = { ...options.relay, routes: router.routes }
    settingsOf(given)
    settingDuration("relay", "pollInterval", given.pollInterval ?? "1 second", { least: 1, infinite: false })
    settingDuration("relay", "gracePeriod", given.gracePeriod ?? "10 seconds", { least: 0, infinite: true })
    settingCount("relay", "workers", given.workers, 1)
  }
  const relay =
    options.relay === false || router.routes.length === 0 ? undefined : { ...options.relay, routes: router.routes }
  return { router, sources, relay }
}

/** A route of a pipeline is not a valid route (a pattern that cannot match, an empty `match`...). */
export class InvalidRouteError extends Data.TaggedError("InvalidRouteError")<{ readonly details: string }> {
  override get message() {
    return `invalid pipeline routes:\n${this.details}`
  }
}

const decodeRoutes = Schema.decodeUnknownEffect(Schema.Array(Route))
const formatIssue = SchemaIssue.makeFormatterDefault()

/**
 * Validates a description once: routes that do not decode fail with InvalidRouteError (naming the
 * route's index and field), duplicate route names with DuplicateRouteError, options that cannot
 * work (an `every` under 1 ms, a relay lease that does not parse...) with InvalidSettingError naming the
 * option and its owner.
 */
export const make = (
  options: PipelineOptions
): Effect.Effect<Pipeline, InvalidRouteError | DuplicateRouteError | InvalidSettingError> =>
  decodeRoutes(options.routes, { errors: "all" }).pipe(
    Effect.mapError((error) => new InvalidRouteError({ details: formatIssue(error.issue) })),
    Effect.flatMap(makeRouter),
    Effect.flatMap((router) =>
      Effect.try({
        try: () => validate(options, router),
        catch: (error) => error
      }).pipe(Effect.catch((error) => (error instanceof InvalidSettingError ? Effect.fail(error) : Effect.die(error))))
    )
  )

/** The sources to ingest, resolved against the registry (when one is provided). */
const resolveSources = (pipeline: Pipeline) =>
  Effect.gen(function* () {
    const registry = yield* Effect.serviceOption(Sources)
    const registered = Option.isSome(registry) ? yield* registry.value.all : []
    if (pipeline.sources === undefined) return registered.map((source) => ({ source }))
    return yield* Effect.forEach(pipeline.sources, (schedule) => {
      if (typeof schedule.source !== "string") return Effect.succeed({ ...schedule, source: schedule.source })
      const name = schedule.source
      const found = registered.find((s) => s.name === name)
      return found === undefined
        ? Effect.fail(new UnknownSourceError({ source: name, registered: registered.map((s) => s.name) }))
        : Effect.succeed({ ...schedule, source: found })
    })
  })

/** One source's ingest loop; an end that is not the pipeline stopping is logged with the cause. */
const ingestLoop = (schedule: SourceSchedule & { readonly source: Source }, router: Router, stopping: () => boolean) =>
  Ingest.run(schedule.source, router, {
    interval: schedule.every ?? schedule.source.pollInterval ?? Duration.minutes(1),
    maxBackoff: schedule.maxBackoff ?? "5 minutes"
  }).pipe(
    Effect.onExit((exit) =>
      stopping()
        ? Effect.void
        : Effect.logError("ingest loop ended unexpectedly: this source is no longer ingested").pipe(
            Effect.annotateLogs({
              source: schedule.source.name,
              error: exit._tag === "Failure" ? Cause.pretty(exit.cause) : "returned"
            })
          )
    ),
    Effect.annotateLogs({ source: schedule.source.name })
  )

/**
 * Starts the pipeline in the current scope and returns once everything runs: the relay workers
 * (when it delivers), then one ingest loop per source. Closing the scope stops ingest first, then
 * drains the relay (`Relay.start`'s graceful stop). Sources named by string are looked up in
 * `Sources`; one that is not there fails with UnknownSourceError, and a route (when this pipeline
 * delivers) whose transport is not in `Transports` with UnknownTransportError, before anything starts.
 */
export const start = (
  pipeline: Pipeline
): Effect.Effect<
  PipelineHandle,
  UnknownSourceError | UnknownTransportError,
  EventStore | OutboxQueue | Transports | Scope.Scope
> =>
  Effect.gen(function* () {
    const sources = yield* resolveSources(pipeline)
    if (pipeline.relay !== undefined) {
      const transports = yield* Transports
      for (const route of pipeline.relay.routes) yield* transports.get(route.transport)
    }
    const relay = pipeline.relay === undefined ? Option.none() : Option.some(yield* Relay.start(pipeline.relay))
    let stopping = false
    for (const schedule of sources) yield* Effect.forkScoped(ingestLoop(schedule, pipeline.router, () => stopping))
    // Added last, so it runs first on close: the loops' interruption is then expected, not logged.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        stopping = true
      })
    )
    return { sources: sources.map((s) => s.source.name), relay }
  })

/** Runs the pipeline until interrupted: `start` in its own scope. */
export const run = (
  pipeline: Pipeline
): Effect.Effect<never, UnknownSourceError | UnknownTransportError, EventStore | OutboxQueue | Transports> =>
  Effect.scoped(Effect.andThen(start(pipeline), Effect.never))
