/**
 * `sluice run`: a plan becomes a running process. Start order is store -> plugin instances ->
 * admin server -> projections -> relay workers -> ingest loops -> push listeners, so interruption
 * (SIGTERM/SIGINT) closes them in reverse: push sources drain (503 + Retry-After) and close,
 * ingest stops, the relay stops claiming and drains its batches in flight (within the grace period;
 * then a request in flight counts a failed attempt and unsent rows are released), the projections finish their batch in flight (Projections.ts), the admin server
 * closes, transports and the store last. The relay and ingest are core's
 * `Pipeline`, built from the config's routes, sources (with their schedules) and relay section.
 */
import { hostname } from "node:os"
import { ContentHash, makeRouterUnsafe, Pipeline, Plugin, Relay, Sources, Transports, Upcasters } from "@sluice/core"
import { PushEndpoints } from "@sluice/source-http"
import * as NodeHttpTransport from "@sluice/transport-http/node"
import { Effect, Layer, Option } from "effect"
import * as AdminServer from "./AdminServer.ts"
import { toDuration } from "./Config.ts"
import { DataDirLock } from "./DataDirLock.ts"
import { warnAboutWindows } from "./DuplicateWindow.ts"
import { nodeContentHash } from "./NodeContentHash.ts"
import type { Plan } from "./Plan.ts"
import * as Projections from "./Projections.ts"
import * as PushServer from "./PushServer.ts"
import * as Retention from "./Retention.ts"
import * as SourceHealth from "./SourceHealth.ts"
import {
  chooseStore,
  type DatabaseUrlError,
  describeStore,
  type MissingDatabaseUrlError,
  type StoreStartError,
  storeLayer
} from "./StoreLayer.ts"
import * as Telemetry from "./Telemetry.ts"

/** The plugin instances of a plan, registered into fresh registries. */
export const pluginLayer = (
  plan: Plan
): Layer.Layer<Sources | Transports | PushEndpoints, Plugin.PluginConfigError | Plugin.PluginStartError> => {
  const instances = [
    ...plan.sources.map((s) => s.plugin.layer(s.config.options, s.config.name)),
    ...plan.transports.map((t) => t.plugin.layer(t.config.options, t.config.name))
  ]
  const [first, ...rest] = instances
  const all = first === undefined ? Layer.empty : Layer.mergeAll(first, ...rest)
  // The runner runs on Node: webhook transports send with node:http and sign with node:crypto instead
  // of the portable fetch and Web Crypto (measured: about 2x the requests per second).
  return all.pipe(
    Layer.provide(NodeHttpTransport.layer()),
    Layer.provideMerge(Layer.mergeAll(Sources.layer, Transports.layer, PushEndpoints.layer))
  )
}

/** A lease owner naming this host and process, so operators reading the outbox can tell who holds a row. */
export const processOwner = (): string => `${hostname()}/${process.pid}`

/** Why `run` could not start. */
export type RunError =
  | MissingDatabaseUrlError
  | DatabaseUrlError
  | StoreStartError
  | Plugin.PluginConfigError
  | Plugin.PluginStartError
  | AdminServer.AdminServerError
  | Projections.ProjectionSetupError
  | PushServer.PushServerError

/** Runs the plan until interrupted; returns only by interruption (or fails at start). */
export const run = (plan: Plan): Effect.Effect<never, RunError> =>
  runScoped(plan).pipe(
    // Every ingested payload is hashed: node:crypto's SHA-256 instead of core's portable one.
    Effect.provideService(ContentHash, nodeContentHash),
    Effect.provide(Telemetry.layer(plan.loaded.config.telemetry))
  )

const runScoped = (plan: Plan): Effect.Effect<never, RunError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { config } = plan.loaded
      const choice = yield* chooseStore(config.store)
      yield* Effect.logInfo("starting sluice", {
        config: plan.loaded.file,
        store: describeStore(choice),
        sources: plan.sources.map((s) => s.config.name),
        transports: plan.transports.map((t) => t.config.name),
        routes: config.routes.map((r) => r.name),
        projections: plan.projections.map((p) => p.config.name)
      })
      const context = yield* Layer.build(
        Layer.mergeAll(
          storeLayer(choice, { command: "sluice run", migrate: true }),
          pluginLayer(plan),
          // The plugins' upcasters: "latest" routes publish, and projections read, at the latest version.
          Layer.succeed(Upcasters.Upcasters, plan.upcasters)
        )
      )
      return yield* Effect.gen(function* () {
        let stopping = false
        const registered = new Map((yield* (yield* Sources).all).map((s) => [s.name, s]))
        // Push sources are served over HTTP (PushServer.ts), not polled.
        const pushed = yield* (yield* PushEndpoints).all
        const polled = plan.sources.filter((s) => !pushed.some((p) => p.source.name === s.config.name))
        // Each source's last tick, for the dashboard: the polled sources are wrapped to record their fetches.
        const sourceHealth = SourceHealth.make(polled.map((s) => s.config.name))
        // Filled once they start (after the admin server), for `sluice projection show --admin`.
        let projections: ReadonlyArray<Projections.ReadyProjection> = []
        if (config.admin.enabled) {
          const url = yield* AdminServer.start(config.admin, {
            stopping: Effect.sync(() => stopping),
            subscribers: plan.projections.map((p) => p.config.name),
            routes: config.routes,
            sources: sourceHealth,
            projections: Effect.sync(() => projections)
          })
          // A second opener of the embedded store is refused; the lock tells it where to ask instead.
          const lock = yield* Effect.serviceOption(DataDirLock)
          if (Option.isSome(lock)) yield* lock.value.recordAdminUrl(url)
        }
        // Before the pipeline: they stop after it (the relay drains first), each within the grace period.
        projections = yield* Projections.start(plan, toDuration(config.relay.gracePeriod))
        if (config.relay.enabled) {
          // Routes whose resends can outlast their receiver's duplicate window (a JetStream stream's).
          const settings = Relay.settingsOf({
            routes: [],
            lease: toDuration(config.relay.lease),
            retryPolicy: config.relay.retry
          })
          const transports = yield* Transports
          const routes = yield* Effect.forEach(config.routes, (route) =>
            Effect.map(Effect.option(transports.get(route.transport)), (found) =>
              Option.map(found, (transport) => ({ name: route.name, transport }))
            )
          )
          yield* warnAboutWindows(routes.flatMap(Option.toArray), settings)
        }
        const pipeline = yield* Pipeline.make({
          routes: config.routes,
          sources: polled.map(({ config: source }) => ({
            // A name not registered stays a name: the pipeline reports it (UnknownSourceError below).
            source: registered.has(source.name) ? sourceHealth.track(registered.get(source.name)!) : source.name,
            ...(source.schedule?.every === undefined ? {} : { every: toDuration(source.schedule.every) }),
            maxBackoff: toDuration(source.schedule?.maxBackoff ?? "5 minutes")
          })),
          relay: config.relay.enabled && {
            owner: processOwner(),
            workers: config.relay.workers,
            batchSize: config.relay.batchSize,
            lease: toDuration(config.relay.lease),
            pollInterval: toDuration(config.relay.pollInterval),
            retryPolicy: config.relay.retry,
            gracePeriod: toDuration(config.relay.gracePeriod)
          }
        }).pipe(Effect.orDie) // the config file was checked against the same rules
        yield* Pipeline.start(pipeline).pipe(
          // The config check already matched every route with a transport.
          Effect.catchTag("UnknownTransportError", (error) => Effect.die(error)),
          // A plugin whose source is not named after its instance registered something else.
          Effect.catchTag("UnknownSourceError", (error) => {
            const planned = plan.sources.find((s) => s.config.name === error.source)
            return Effect.fail(
              new Plugin.PluginStartError({
                plugin: planned?.plugin.name ?? "unknown",
                instance: error.source,
                reason: `the plugin registered no source named ${JSON.stringify(error.source)} (registered: ${error.registered.join(", ") || "none"})`
              })
            )
          })
        )
        // After the pipeline, so they stop first: each drains (503 + Retry-After), then closes.
        yield* PushServer.start(pushed, makeRouterUnsafe(config.routes))
        yield* Effect.addFinalizer(() =>
          Effect.andThen(
            Effect.sync(() => {
              stopping = true
            }),
            Effect.logInfo("stopping: ingest stops, the relay drains")
          )
        )
        // Retention (Retention.ts): interrupted with the rest of the process on shutdown.
        if (config.retention.enabled) yield* Effect.forkScoped(Retention.scheduled(config.retention))
        yield* Effect.logInfo("sluice is running", { pid: process.pid })
        return yield* Effect.never
      }).pipe(Effect.provideContext(context))
    })
  )
