/**
 * The config's projections in `sluice run` (and in `sluice projection ...`): each planned instance
 * is built by its plugin, its effects bound to the store the runner opened (the store's SqlClient,
 * so its SQL joins the store's transactions), its read model set up, then run as core's
 * `Projection.start` beside the relay, in the run's scope: stopping the run stops it, the batch in
 * flight finishing within the relay's grace period. Core's subscription logs each failed batch
 * (with the subscription's name) and counts handled events (`sluice_subscription_events_total`);
 * a failing event is logged here with its position.
 */
import { type EventStore, LogPosition, type Plugin, Projection, SubscriptionStore } from "@sluice/core"
import { Data, type Duration, Effect, Option, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { toDuration } from "./Config.ts"
import { describeError } from "./ErrorText.ts"
import type { Plan } from "./Plan.ts"
import type { ProjectionServices } from "./PluginLoader.ts"
import { StoreSql } from "./StoreLayer.ts"

/** A projection's read model could not be set up (its tables could not be created). */
export class ProjectionSetupError extends Data.TaggedError("ProjectionSetupError")<{
  readonly projection: string
  readonly plugin: string
  readonly reason: string
}> {
  override get message() {
    return `projection ${this.projection} (plugin ${this.plugin}): cannot set up its read model: ${this.reason}`
  }
}

/** A projection ready to run: its effects need only what the runner's store provides. */
export interface ReadyProjection {
  readonly name: string
  readonly plugin: string
  readonly projection: Projection.Projection<unknown, EventStore | SubscriptionStore>
  readonly setup: Effect.Effect<void, ProjectionSetupError, EventStore | SubscriptionStore>
  readonly show: Option.Option<
    (limit: number) => Effect.Effect<ReadonlyArray<Plugin.ReadModelTable>, unknown, EventStore | SubscriptionStore>
  >
  readonly options: Projection.ProjectionOptions
}

type Planned = Plan["projections"][number]

/** Builds a planned projection with its plugin and binds it to the store's SqlClient (when there is one). */
export const build = (
  planned: Planned,
  gracePeriod: Duration.Input
): Effect.Effect<ReadyProjection, Plugin.PluginConfigError | Plugin.PluginStartError, StoreSql> =>
  Effect.gen(function* () {
    const { config, plugin } = planned
    const { client, schema } = yield* StoreSql
    const instance = yield* plugin.make(config.options, config.name, { storeSchema: schema })
    const bind = <A, E>(effect: Effect.Effect<A, E, ProjectionServices>) =>
      (client === undefined ? effect : Effect.provideService(effect, SqlClient.SqlClient, client)) as Effect.Effect<
        A,
        E,
        EventStore | SubscriptionStore
      >
    const { projection } = instance
    const ready: ReadyProjection = {
      name: config.name,
      plugin: plugin.name,
      projection: {
        ...(projection.eventTypes === undefined ? {} : { eventTypes: projection.eventTypes }),
        // The projection is named after its instance: the config's name is its checkpoint's key.
        name: config.name,
        apply: (event) =>
          bind(projection.apply(event)).pipe(
            Effect.tapError((error) =>
              Effect.logError("projection failed to apply an event").pipe(
                Effect.annotateLogs({
                  subscription: config.name,
                  position: LogPosition.format(event.log_position),
                  event_id: event.event.event_id,
                  event_type: event.event.event_type,
                  error: describeError(error)
                })
              )
            )
          ),
        ...(projection.reset === undefined ? {} : { reset: bind(projection.reset) })
      },
      setup: (instance.setup === undefined ? Effect.void : bind(instance.setup)).pipe(
        Effect.mapError(
          (error) =>
            new ProjectionSetupError({ projection: config.name, plugin: plugin.name, reason: describeError(error) })
        )
      ),
      show: Option.fromNullishOr(instance.show).pipe(Option.map((show) => (limit: number) => bind(show(limit)))),
      options: { batchSize: config.batchSize, pollInterval: toDuration(config.pollInterval), gracePeriod }
    }
    return ready
  })

const checkpointText = (name: string) =>
  SubscriptionStore.use((store) => store.loadCheckpoint(name)).pipe(
    Effect.map(Option.match({ onNone: () => "none", onSome: (c) => LogPosition.format(c.position) })),
    Effect.orElseSucceed(() => "unknown")
  )

/**
 * Builds, sets up and starts every projection of the plan in the current scope; closing the scope
 * stops them (logging where each stopped). Returns them, ready (for `projection show --admin`).
 */
export const start = (
  plan: Plan,
  gracePeriod: Duration.Input
): Effect.Effect<
  ReadonlyArray<ReadyProjection>,
  Plugin.PluginConfigError | Plugin.PluginStartError | ProjectionSetupError,
  EventStore | SubscriptionStore | StoreSql | Scope.Scope
> =>
  Effect.forEach(plan.projections, (planned) =>
    Effect.gen(function* () {
      const ready = yield* build(planned, gracePeriod)
      yield* ready.setup
      const annotate = Effect.annotateLogs({ subscription: ready.name, plugin: ready.plugin })
      yield* Effect.addFinalizer(() =>
        Effect.flatMap(checkpointText(ready.name), (position) =>
          Effect.logInfo("projection stopped").pipe(Effect.annotateLogs({ position }), annotate)
        )
      )
      yield* Projection.start(ready.projection, ready.options)
      const position = yield* checkpointText(ready.name)
      yield* Effect.logInfo("projection started").pipe(Effect.annotateLogs({ position }), annotate)
      return ready
    })
  )
