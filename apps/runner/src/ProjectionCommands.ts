/**
 * `sluice projection rebuild NAME` and `sluice projection show NAME`, for a projection of the
 * config file (its plugin loaded as `run` loads it), on the store opened as it is (no migration);
 * `projection show --admin URL` asks a running `sluice run` instead (AdminProjections.ts).
 *
 * A rebuild runs core's `Projection.rebuild` (the read model's `reset` and the checkpoint's deletion
 * in one transaction), then `Projection.catchUp` replays the whole log into it. Beside a running
 * `sluice run` of the same projection:
 * - embedded PGlite: the data directory's lock refuses the command (stop the run first);
 * - PostgreSQL: both may replay; every batch commits with a compare-and-set of the checkpoint, so
 *   each event is applied once whichever wins. When the running instance wins a batch first, the
 *   command stops replaying (its batch rolled back) and says the running instance goes on with it.
 */
import {
  CheckpointConflictError,
  type PluginConfigError,
  type PluginStartError,
  Projection,
  type StoreError,
  Upcasters
} from "@sluice/core"
import { Console, Effect, Layer, type LogLevel, Option } from "effect"
import * as AdminClient from "./AdminClient.ts"
import { asTypedForAdmin, UsageError } from "./Commands.ts"
import { toDuration } from "./Config.ts"
import type { ConfigFileError } from "./ConfigFile.ts"
import { describeError } from "./ErrorText.ts"
import * as Logging from "./Logging.ts"
import { loadPlan } from "./Plan.ts"
import * as ProjectionReport from "./ProjectionReport.ts"
import * as Projections from "./Projections.ts"
import {
  chooseStore,
  type DatabaseUrlError,
  type MissingDatabaseUrlError,
  type StoreStartError,
  storeLayer
} from "./StoreLayer.ts"
import { UnknownProjectionError } from "./UnknownProjection.ts"

/** Why a projection command failed (what `run` fails with, and the read model's own errors). */
export type ProjectionCommandError =
  | MissingDatabaseUrlError
  | DatabaseUrlError
  | StoreStartError
  | Projections.ProjectionSetupError
  | PluginConfigError
  | PluginStartError
  | ConfigFileError
  | UnknownProjectionError
  | StoreError
  | ProjectionReport.ReadModelError
  | UsageError

/** Loads the plan, finds the projection `name`, opens the store and hands `f` the ready projection. */
const withProjection = <A, E, R>(
  file: string,
  name: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  command: string,
  f: (projection: Projections.ReadyProjection) => Effect.Effect<A, E, R>,
  viaAdmin?: string
) =>
  Effect.gen(function* () {
    const plan = yield* loadPlan(file)
    const { config } = plan.loaded
    const planned = plan.projections.find((p) => p.config.name === name)
    if (planned === undefined) {
      return yield* new UnknownProjectionError({
        name,
        where: `in ${file}`,
        known: plan.projections.map((p) => p.config.name)
      })
    }
    const choice = yield* chooseStore(config.store)
    const logging = Logging.layer(
      config.logging.format,
      Option.getOrElse(logLevel, () => config.logging.level)
    )
    const open = storeLayer(choice, {
      command: `sluice ${command}`,
      migrate: false,
      ...(viaAdmin === undefined ? {} : { viaAdmin })
    })
    return yield* Effect.flatMap(Projections.build(planned, toDuration(config.relay.gracePeriod)), f).pipe(
      // A rebuild replays the log at the versions `run` projects it at.
      Effect.provideService(Upcasters.Upcasters, plan.upcasters),
      Effect.provide(open.pipe(Layer.provideMerge(logging)))
    )
  })

/** `sluice projection rebuild NAME`: empties the read model, resets the checkpoint, replays the log; prints counts. */
export const rebuild = (
  file: string,
  name: string,
  logLevel: Option.Option<LogLevel.LogLevel>
): Effect.Effect<void, ProjectionCommandError> =>
  withProjection(file, name, logLevel, `projection rebuild ${name}`, (ready) =>
    Effect.gen(function* () {
      yield* ready.setup
      const failed = (error: unknown) =>
        new ProjectionReport.ReadModelError({ projection: name, action: "rebuild", reason: describeError(error) })
      yield* Projection.rebuild(ready.projection).pipe(Effect.mapError(failed))
      yield* Effect.logInfo("projection reset: replaying the log").pipe(Effect.annotateLogs({ subscription: name }))
      const replayed = yield* Effect.result(Projection.catchUp(ready.projection, ready.options))
      if (replayed._tag === "Success") {
        const { events, batches, position } = replayed.success
        const at = position === null ? "none (the log is empty)" : `${position.transaction_id}/${position.position}`
        return yield* Console.log(`rebuilt ${name}: ${events} event(s) in ${batches} batch(es), checkpoint ${at}`)
      }
      if (!(replayed.failure instanceof CheckpointConflictError)) return yield* Effect.fail(failed(replayed.failure))
      yield* Console.log(
        `reset ${name}; another instance (a running sluice run) moved its checkpoint meanwhile and is replaying the log: follow it with sluice status`
      )
    })
  )

/**
 * `sluice projection show NAME`: the projection's checkpoint and lag, then its read model's newest
 * rows; with `admin`, as the running process that serves that admin API measures them.
 */
export const show = (
  file: string,
  name: string,
  logLevel: Option.Option<LogLevel.LogLevel>,
  options: { readonly limit: number; readonly json: boolean; readonly admin?: AdminClient.Target | undefined }
): Effect.Effect<void, ProjectionCommandError | AdminClient.AdminClientError> => {
  if (options.limit < 1 || options.limit > ProjectionReport.maxShowLimit)
    return Effect.fail(
      new UsageError({ reason: `--limit: must be from 1 to ${ProjectionReport.maxShowLimit}, got ${options.limit}` })
    )
  const report: Effect.Effect<
    ProjectionReport.ProjectionReport,
    ProjectionCommandError | AdminClient.AdminClientError
  > =
    options.admin !== undefined
      ? AdminClient.projection(options.admin, name, options.limit)
      : withProjection(
          file,
          name,
          logLevel,
          `projection show ${name}`,
          (ready) => ProjectionReport.measure(ready, options.limit),
          asTypedForAdmin()
        )
  return Effect.flatMap(report, (measured) => ProjectionReport.print(measured, options))
}
