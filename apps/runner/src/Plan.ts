/**
 * From a config file to a plan the runner can start: every plugin resolved and every plugin's
 * options decoded by the plugin's own Schema. The file's problems and every plugin's problems are
 * gathered in one pass into one ConfigFileError, each naming its field path
 * (`at ["sources"][0]["options"]["symbols"]`), so `sluice validate` reports everything at once
 * (not in stages) and `run` never starts half a pipeline.
 */
import { dirname, resolve } from "node:path"
import type { Upcasters } from "@sluice/core"
import { Effect } from "effect"
import type { ProjectionConfig, SourceConfig, TransportConfig } from "./Config.ts"
import {
  type ConfigFileError,
  checkConfig,
  dropFollowing,
  type LoadedConfig,
  locate,
  type Problem,
  problemsError,
  readConfigFile
} from "./ConfigFile.ts"
import {
  type AnyLoadedPlugin,
  type AnyPluginKind,
  type LoadedOf,
  type LoadedPlugin,
  type LoadedProjectionPlugin,
  resolvePlugin
} from "./PluginLoader.ts"
import * as PluginUpcasters from "./PluginUpcasters.ts"

/** A source, transport or projection instance, its plugin resolved and its options checked. */
export interface PlannedInstance<C, P extends AnyLoadedPlugin = LoadedPlugin> {
  readonly config: C
  readonly plugin: P
}

export interface Plan {
  readonly loaded: LoadedConfig
  readonly sources: ReadonlyArray<PlannedInstance<SourceConfig>>
  readonly transports: ReadonlyArray<PlannedInstance<TransportConfig>>
  readonly projections: ReadonlyArray<PlannedInstance<ProjectionConfig, LoadedProjectionPlugin>>
  /** The upcasters the plugins declare (PluginUpcasters.ts), for the relay and the projections. */
  readonly upcasters: Upcasters.Registry
}

const entriesOf = (value: unknown, key: string): ReadonlyArray<unknown> => {
  const entries = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined
  return Array.isArray(entries) ? entries : []
}

const fieldOf = (entry: unknown, key: string): unknown =>
  typeof entry === "object" && entry !== null ? (entry as Record<string, unknown>)[key] : undefined

/**
 * Resolves the plugin of every entry of `field` and decodes its options. It reads `value`
 * leniently (the file may have other problems): an entry without a usable `plugin` or `options`
 * is skipped here, the config Schema reports it.
 */
const checkPlugins = <K extends AnyPluginKind>(
  value: unknown,
  dir: string,
  kind: K,
  field: "sources" | "transports" | "projections"
) =>
  Effect.gen(function* () {
    const problems: Array<Problem> = []
    const plugins = yield* Effect.forEach(
      entriesOf(value, field),
      (entry, index): Effect.Effect<LoadedOf<K> | undefined> =>
        Effect.gen(function* () {
          const name = fieldOf(entry, "plugin")
          if (typeof name !== "string" || name === "") return undefined
          const resolved = yield* Effect.result(resolvePlugin(name, kind, dir))
          if (resolved._tag === "Failure") {
            problems.push({ message: resolved.failure.message, path: [field, index, "plugin"] })
            return undefined
          }
          const options = fieldOf(entry, "options") ?? {}
          if (typeof options !== "object" || options === null || Array.isArray(options)) return resolved.success
          const decoded = yield* Effect.result(resolved.success.decode(options, [field, index, "options"]))
          if (decoded._tag === "Failure") problems.push(...decoded.failure)
          return resolved.success
        })
    )
    return { plugins, problems }
  })

/** Projections whose read model is in SQL cannot run on the memory store (read leniently, like the rest). */
const storeProblems = (value: unknown, plugins: ReadonlyArray<LoadedProjectionPlugin | undefined>) =>
  fieldOf(fieldOf(value, "store"), "driver") !== "memory"
    ? []
    : plugins.flatMap(
        (plugin, index): Array<Problem> =>
          plugin?.usesSql === true
            ? [
                {
                  message: `${plugin.name} keeps its read model in the store's SQL database, and store.driver is "memory" (use "auto", "embedded" or "postgres")`,
                  path: ["projections", index, "plugin"]
                }
              ]
            : []
      )

/** The projections of a config, their plugins resolved and checked against the store. */
const checkProjections = (value: unknown, dir: string) =>
  Effect.map(checkPlugins(value, dir, "projection", "projections"), ({ plugins, problems }) => ({
    plugins,
    problems: [...problems, ...storeProblems(value, plugins)]
  }))

const instances = <C, P extends AnyLoadedPlugin>(
  configs: ReadonlyArray<C>,
  plugins: ReadonlyArray<P | undefined>
): Array<PlannedInstance<C, P>> =>
  configs.flatMap((config, i) => {
    const plugin = plugins[i]
    return plugin === undefined ? [] : [{ config, plugin }]
  })

/**
 * Resolves and checks every plugin of a config read as `value` (leniently) from `dir`: the
 * problems, and the plan of the config once it has decoded.
 */
const checkAllPlugins = (value: unknown, dir: string) =>
  Effect.gen(function* () {
    const sources = yield* checkPlugins(value, dir, "source", "sources")
    const transports = yield* checkPlugins(value, dir, "transport", "transports")
    const projections = yield* checkProjections(value, dir)
    const upcasters = PluginUpcasters.check({ sources: sources.plugins, transports: transports.plugins })
    return {
      problems: [...sources.problems, ...transports.problems, ...projections.problems, ...upcasters.problems],
      planOf: (loaded: LoadedConfig): Plan => ({
        loaded,
        sources: instances(loaded.config.sources, sources.plugins),
        transports: instances(loaded.config.transports, transports.plugins),
        projections: instances(loaded.config.projections, projections.plugins),
        upcasters: upcasters.registry
      })
    }
  })

/** Resolves and checks every plugin of a decoded config. */
export const plan = (loaded: LoadedConfig): Effect.Effect<Plan, ConfigFileError> =>
  Effect.gen(function* () {
    const plugins = yield* checkAllPlugins(loaded.config, loaded.dir)
    if (plugins.problems.length > 0) return yield* problemsError(loaded.file, plugins.problems)
    return plugins.planOf(loaded)
  })

/**
 * Reads `file` and checks all that `run` needs in one pass: the file's fields, the environment
 * variables it references, the database URLs, and every plugin (resolved, options decoded).
 */
export const loadPlan = (file: string): Effect.Effect<Plan, ConfigFileError> =>
  Effect.gen(function* () {
    const absolute = resolve(file)
    const dir = dirname(absolute)
    const checked = yield* checkConfig(yield* readConfigFile(file, absolute))
    const plugins = yield* checkAllPlugins(checked.value, dir)
    const problems = [...checked.problems, ...dropFollowing(plugins.problems, checked.unset)]
    if (checked.config === undefined || problems.length > 0) return yield* problemsError(file, problems)
    return plugins.planOf(locate(file, dir, checked.config))
  })
