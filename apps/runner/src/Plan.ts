/**
 * From a decoded config to a plan the runner can start: every plugin resolved and every plugin's
 * options decoded by the plugin's own Schema. All problems are gathered into one ConfigFileError,
 * each naming its field path (`at ["sources"][0]["options"]["symbols"]`), so `sluice validate`
 * reports everything at once and `run` never starts half a pipeline.
 */
import { Effect } from "effect"
import type { SourceConfig, TransportConfig } from "./Config.ts"
import { ConfigFileError, formatPath, type LoadedConfig } from "./ConfigFile.ts"
import { type LoadedPlugin, type PluginKind, resolvePlugin } from "./PluginLoader.ts"

/** A source or transport instance, its plugin resolved and its options checked. */
export interface PlannedInstance<C> {
  readonly config: C
  readonly plugin: LoadedPlugin
}

export interface Plan {
  readonly loaded: LoadedConfig
  readonly sources: ReadonlyArray<PlannedInstance<SourceConfig>>
  readonly transports: ReadonlyArray<PlannedInstance<TransportConfig>>
}

const planOne = <C extends { readonly plugin: string; readonly options: unknown }>(
  dir: string,
  kind: PluginKind,
  field: "sources" | "transports",
  index: number,
  config: C,
  problems: Array<string>
) =>
  Effect.gen(function* () {
    const resolved = yield* Effect.result(resolvePlugin(config.plugin, kind, dir))
    if (resolved._tag === "Failure") {
      problems.push(`${resolved.failure.message}\n  at ${formatPath([field, index, "plugin"])}`)
      return undefined
    }
    const decoded = yield* Effect.result(resolved.success.decode(config.options, [field, index, "options"]))
    if (decoded._tag === "Failure") {
      problems.push(decoded.failure)
      return undefined
    }
    return { config, plugin: resolved.success }
  })

/** Resolves and checks every plugin of the config. */
export const plan = (loaded: LoadedConfig): Effect.Effect<Plan, ConfigFileError> =>
  Effect.gen(function* () {
    const problems: Array<string> = []
    const sources = yield* Effect.forEach(loaded.config.sources, (config, i) =>
      planOne(loaded.dir, "source", "sources", i, config, problems)
    )
    const transports = yield* Effect.forEach(loaded.config.transports, (config, i) =>
      planOne(loaded.dir, "transport", "transports", i, config, problems)
    )
    if (problems.length > 0) return yield* new ConfigFileError({ file: loaded.file, details: problems.join("\n") })
    return {
      loaded,
      sources: sources.filter((s) => s !== undefined),
      transports: transports.filter((t) => t !== undefined)
    }
  })
