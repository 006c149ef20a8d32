/**
 * Resolving the `plugin` of a source, transport or projection: a built-in name (the plugin packages the runner
 * ships with, and short aliases), another package name (imported from the config file's
 * directory), or a path to a module exporting a Plugin. Plugins are erased to one shape here so the
 * runner can decode their options (errors prefixed with the field path) and build their layers
 * (projections: their instances) uniformly; options the plugin's Schema marks as `Plugin.FilePath` are resolved against the config
 * file's directory first, as every other path in a config file is.
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { isAbsolute, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type EventStore, Plugin, type Sources, type SubscriptionStore, type Transports } from "@sluice/core"
import { YFinancePlugin } from "@sluice/plugin-yfinance"
import { YahooReadModelPlugin } from "@sluice/plugin-yfinance/read-model"
import { YahooReplayPlugin } from "@sluice/plugin-yfinance/replay"
import type { PushEndpoints } from "@sluice/source-http"
import { PushSourcePlugin } from "@sluice/source-http"
import { NatsSourcePlugin } from "@sluice/source-nats"
import { ConsoleTransportPlugin } from "@sluice/transport-console"
import { HttpTransportPlugin } from "@sluice/transport-http"
import { NatsTransportPlugin } from "@sluice/transport-nats"
import { Data, Effect, type Layer, Schema, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import { ownCopies, PluginCopyError } from "./PluginCopies.ts"
import { issueProblems, type Problem } from "./Problem.ts"

/** The kinds `sluice new plugin` scaffolds, whose instances register into a registry. */
export type PluginKind = "source" | "transport"
/** Every kind a config file names. */
export type AnyPluginKind = PluginKind | "projection"

/** A source or transport plugin the runner can use: decode its options, then build an instance layer. */
export interface LoadedPlugin {
  readonly name: string
  readonly kind: "source" | "transport"
  /** Decodes options; each problem's path is prefixed with `at` (where the options sit in the file). */
  readonly decode: (options: unknown, at: ReadonlyArray<PropertyKey>) => Effect.Effect<unknown, ReadonlyArray<Problem>>
  /** Registers one instance named `instance` (options as written; the plugin decodes them again). */
  readonly layer: (
    options: unknown,
    instance: string
  ) => Layer.Layer<never, Plugin.PluginConfigError | Plugin.PluginStartError, Sources | Transports>
  /** The options' Schema, for `config schema`. */
  readonly schema: Schema.Top
  /** The upcasters the plugin declares (source plugins; checked by PluginUpcasters.ts). */
  readonly upcasters?: unknown
}

/** What a projection plugin's effects may require: the runner provides them from the store it opened. */
export type ProjectionServices = SqlClient.SqlClient | EventStore | SubscriptionStore

/** A projection plugin the runner can use: decode its options, then build an instance. */
export interface LoadedProjectionPlugin {
  readonly name: string
  readonly kind: "projection"
  readonly decode: LoadedPlugin["decode"]
  /** The read model is in the store's SQL database (refused on the memory store). */
  readonly usesSql: boolean
  /** Builds the instance named `instance` (options as written; the plugin decodes them). */
  readonly make: (
    options: unknown,
    instance: string,
    context: Plugin.ProjectionContext
  ) => Effect.Effect<Plugin.ProjectionInstance<ProjectionServices>, Plugin.PluginConfigError | Plugin.PluginStartError>
  readonly schema: Schema.Top
}

/** A loaded plugin of any kind. */
export type AnyLoadedPlugin = LoadedPlugin | LoadedProjectionPlugin
/** The loaded plugin of a kind. */
export type LoadedOf<K extends AnyPluginKind> = K extends "projection" ? LoadedProjectionPlugin : LoadedPlugin

/** A plugin name that is neither built in, nor an installed package, nor a module path exporting a Plugin. */
export class UnknownPluginError extends Data.TaggedError("UnknownPluginError")<{
  readonly plugin: string
  readonly kind: AnyPluginKind
  readonly reason: string
  readonly known: ReadonlyArray<string>
}> {
  override get message() {
    return `unknown ${this.kind} plugin ${JSON.stringify(this.plugin)}: ${this.reason} (built-in ${this.kind} plugins: ${this.known.join(", ")}; or give a package name or a path to a module exporting a Plugin)`
  }
}

/**
 * A plugin module that exists but fails to load: it throws on import, has a syntax error, or
 * imports something missing. The module's own error, not an "unknown plugin".
 */
export class PluginImportError extends Data.TaggedError("PluginImportError")<{
  readonly plugin: string
  readonly kind: AnyPluginKind
  /** The module's file. */
  readonly file: string
  /** The import's error: its name and message, and where it was thrown in the module when known. */
  readonly reason: string
}> {
  override get message() {
    return `${this.kind} plugin ${JSON.stringify(this.plugin)} failed to load (${this.file}): ${this.reason}`
  }
}

/** An import's error as one line: `TypeError: x is not a function (at file.ts:3:7)`. */
const importFailure = (cause: unknown, url: string): string => {
  if (!(cause instanceof Error)) return String(cause)
  const head = cause.message === "" ? cause.name : `${cause.name}: ${cause.message}`
  const frame = (cause.stack ?? "").split("\n").find((line) => line.includes(url))
  const where = frame?.match(/file:\/\/(.+?):(\d+):(\d+)/)
  return where === null || where === undefined ? head : `${head} (at ${where[1]}:${where[2]}:${where[3]})`
}

type AnyPlugin =
  | Plugin.Plugin<"source" | "transport", unknown, Scope.Scope>
  | Plugin.ProjectionPlugin<unknown, ProjectionServices>

const decoder =
  (schema: Schema.Codec<unknown, unknown>): LoadedPlugin["decode"] =>
  (options, at) =>
    Schema.decodeUnknownEffect(schema)(options, { errors: "all", onExcessProperty: "error" }).pipe(
      Effect.mapError((error) => issueProblems(error.issue, at))
    )

/**
 * Erases a typed Plugin to the runner's uniform shape. A plugin may require `Scope` (transports
 * hold resources): the layer it builds provides one. Push sources also declare themselves in
 * `PushEndpoints`, which `Run.pluginLayer` provides.
 */
export const fromPlugin = <K extends "source" | "transport", C, R extends Scope.Scope | PushEndpoints = never>(
  plugin: Plugin.Plugin<K, C, R>
): LoadedPlugin => ({
  name: plugin.name,
  kind: plugin.kind,
  schema: plugin.config,
  decode: decoder(plugin.config as Schema.Codec<unknown, unknown>),
  upcasters: plugin.upcasters,
  layer: (options, instance) =>
    plugin.layer(options, instance) as unknown as Layer.Layer<
      never,
      Plugin.PluginConfigError | Plugin.PluginStartError,
      Sources | Transports
    >
})

/**
 * Erases a projection plugin to the runner's shape. Its effects may require only what the runner
 * provides (ProjectionServices).
 */
export const fromProjectionPlugin = <C, R extends ProjectionServices = never>(
  plugin: Plugin.ProjectionPlugin<C, R>
): LoadedProjectionPlugin => ({
  name: plugin.name,
  kind: "projection",
  schema: plugin.config,
  usesSql: plugin.usesSql,
  decode: decoder(plugin.config as Schema.Codec<unknown, unknown>),
  make: (options, instance, context) =>
    Effect.flatMap(Plugin.decodeConfig(plugin, instance, options), (config) => plugin.make(config, instance, context))
})

/**
 * `plugin` as used by a config file in `dir`: the options its Schema marks `Plugin.FilePath` are
 * resolved against `dir` before it sees them (absolute ones are kept), as every path in a config is.
 */
export const locatedIn = <P extends AnyLoadedPlugin>(plugin: P, dir: string): P => {
  const located = (options: unknown) => Plugin.mapFilePaths(plugin.schema, options, (path) => resolve(dir, path))
  const decode: LoadedPlugin["decode"] = (options, at) => plugin.decode(located(options), at)
  return plugin.kind === "projection"
    ? {
        ...plugin,
        decode,
        make: (options: unknown, instance: string, context: Plugin.ProjectionContext) =>
          plugin.make(located(options), instance, context)
      }
    : { ...plugin, decode, layer: (options: unknown, instance: string) => plugin.layer(located(options), instance) }
}

/** The plugins that ship with the runner, by name (package name, and a short alias). */
export const builtins: ReadonlyMap<string, AnyLoadedPlugin> = new Map<string, AnyLoadedPlugin>([
  ["@sluice/plugin-yfinance", fromPlugin(YFinancePlugin)],
  ["yfinance", fromPlugin(YFinancePlugin)],
  ["@sluice/plugin-yfinance/replay", fromPlugin(YahooReplayPlugin)],
  ["yahoo-replay", fromPlugin(YahooReplayPlugin)],
  ["@sluice/source-nats", fromPlugin(NatsSourcePlugin)],
  ["@sluice/source-http", fromPlugin(PushSourcePlugin)],
  ["push", fromPlugin(PushSourcePlugin)],
  ["@sluice/transport-http", fromPlugin(HttpTransportPlugin)],
  ["http", fromPlugin(HttpTransportPlugin)],
  ["@sluice/transport-console", fromPlugin(ConsoleTransportPlugin)],
  ["console", fromPlugin(ConsoleTransportPlugin)],
  ["@sluice/transport-nats", fromPlugin(NatsTransportPlugin)],
  ["nats", fromPlugin(NatsTransportPlugin)],
  ["@sluice/plugin-yfinance/read-model", fromProjectionPlugin(YahooReadModelPlugin)],
  ["yahoo-read-model", fromProjectionPlugin(YahooReadModelPlugin)]
])

const knownOf = (kind: AnyPluginKind) => [...builtins].filter(([, p]) => p.kind === kind).map(([name]) => name)

const isPlugin = (value: unknown): value is AnyPlugin =>
  typeof value === "object" &&
  value !== null &&
  "name" in value &&
  "kind" in value &&
  "config" in value &&
  Schema.isSchema((value as { config: unknown }).config) &&
  ((value as { kind: unknown }).kind === "projection"
    ? typeof (value as { make?: unknown }).make === "function"
    : typeof (value as { layer?: unknown }).layer === "function")

const isPath = (name: string) => name.startsWith(".") || isAbsolute(name)

/**
 * Resolves `name` for a `kind` plugin; relative paths and package names resolve from `dir` (the
 * config file's directory). The module must export a Plugin of that kind (any export name). A
 * module that is found but fails to import is a PluginImportError carrying its error; one that
 * would load its own copy of `effect` or `@sluice/core` is a PluginCopyError, and is not imported.
 */
export const resolvePlugin = <K extends AnyPluginKind>(
  name: string,
  kind: K,
  dir: string
): Effect.Effect<LoadedOf<K>, UnknownPluginError | PluginImportError | PluginCopyError> =>
  Effect.gen(function* () {
    const fail = (reason: string) => new UnknownPluginError({ plugin: name, kind, reason, known: knownOf(kind) })
    const builtin = builtins.get(name)
    if (builtin !== undefined) {
      if (builtin.kind !== kind) return yield* fail(`it is a ${builtin.kind} plugin`)
      return locatedIn(builtin, dir) as LoadedOf<K>
    }
    const url = yield* Effect.try({
      try: () => {
        if (!isPath(name)) return pathToFileURL(createRequire(resolve(dir, "package.json")).resolve(name)).href
        const file = resolve(dir, name)
        if (!existsSync(file)) throw new Error("missing")
        return pathToFileURL(file).href
      },
      catch: () => fail(isPath(name) ? `no such file: ${resolve(dir, name)}` : "no such package installed")
    })
    const copies = ownCopies(fileURLToPath(url))
    if (copies.length > 0) return yield* new PluginCopyError({ plugin: name, kind, copies })
    const module = yield* Effect.tryPromise({
      try: () => import(url) as Promise<Record<string, unknown>>,
      catch: (cause) =>
        new PluginImportError({ plugin: name, kind, file: fileURLToPath(url), reason: importFailure(cause, url) })
    })
    const plugins = Object.values(module).filter(isPlugin)
    const plugin = plugins.find((p) => p.kind === kind)
    if (plugin === undefined) {
      return yield* fail(plugins.length === 0 ? "the module exports no Plugin" : `the module exports no ${kind} plugin`)
    }
    const loaded = plugin.kind === "projection" ? fromProjectionPlugin(plugin) : fromPlugin(plugin)
    return locatedIn(loaded, dir) as LoadedOf<K>
  })
