/**
 * Resolving the `plugin` of a source or transport: a built-in name (the plugin packages the runner
 * ships with, and short aliases), another package name (imported from the config file's
 * directory), or a path to a module exporting a Plugin. Plugins are erased to one shape here so the
 * runner can decode their options (errors prefixed with the field path) and build their layers
 * uniformly; options the plugin's Schema marks as `Plugin.FilePath` are resolved against the config
 * file's directory first, as every other path in a config file is.
 */
import { existsSync } from "node:fs"
import { createRequire } from "node:module"
import { isAbsolute, resolve } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Plugin, type Sources, type Transports } from "@sluice/core"
import { YFinance } from "@sluice/plugin-yfinance"
import { YahooReplay } from "@sluice/plugin-yfinance/replay"
import { ConsoleTransportPlugin } from "@sluice/transport-console"
import { HttpTransportPlugin } from "@sluice/transport-http"
import { Data, Effect, type Layer, Schema, type Scope } from "effect"
import { ownCopies, PluginCopyError } from "./PluginCopies.ts"
import { issueProblems, type Problem } from "./Problem.ts"

export type PluginKind = "source" | "transport"

/** A plugin the runner can use: decode its options, then build an instance layer. */
export interface LoadedPlugin {
  readonly name: string
  readonly kind: PluginKind
  /** Decodes options; each problem's path is prefixed with `at` (where the options sit in the file). */
  readonly decode: (options: unknown, at: ReadonlyArray<PropertyKey>) => Effect.Effect<unknown, ReadonlyArray<Problem>>
  /** Registers one instance named `instance` (options as written; the plugin decodes them again). */
  readonly layer: (
    options: unknown,
    instance: string
  ) => Layer.Layer<never, Plugin.PluginConfigError | Plugin.PluginStartError, Sources | Transports>
  /** The options' Schema, for `config schema`. */
  readonly schema: Schema.Top
}

/** A plugin name that is neither built in, nor an installed package, nor a module path exporting a Plugin. */
export class UnknownPluginError extends Data.TaggedError("UnknownPluginError")<{
  readonly plugin: string
  readonly kind: PluginKind
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
  readonly kind: PluginKind
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

type AnyPlugin = Plugin.Plugin<PluginKind, unknown, Scope.Scope>

/**
 * Erases a typed Plugin to the runner's uniform shape. A plugin may require `Scope` (transports
 * hold resources): the layer it builds provides one.
 */
export const fromPlugin = <K extends PluginKind, C, R extends Scope.Scope = never>(
  plugin: Plugin.Plugin<K, C, R>
): LoadedPlugin => ({
  name: plugin.name,
  kind: plugin.kind,
  schema: plugin.config,
  decode: (options, at) =>
    Schema.decodeUnknownEffect(plugin.config)(options, { errors: "all", onExcessProperty: "error" }).pipe(
      Effect.mapError((error) => issueProblems(error.issue, at))
    ),
  layer: (options, instance) =>
    plugin.layer(options, instance) as unknown as Layer.Layer<
      never,
      Plugin.PluginConfigError | Plugin.PluginStartError,
      Sources | Transports
    >
})

/**
 * `plugin` as used by a config file in `dir`: the options its Schema marks `Plugin.FilePath` are
 * resolved against `dir` before it sees them (absolute ones are kept), as every path in a config is.
 */
export const locatedIn = (plugin: LoadedPlugin, dir: string): LoadedPlugin => {
  const located = (options: unknown) => Plugin.mapFilePaths(plugin.schema, options, (path) => resolve(dir, path))
  return {
    ...plugin,
    decode: (options, at) => plugin.decode(located(options), at),
    layer: (options, instance) => plugin.layer(located(options), instance)
  }
}

/** The plugins that ship with the runner, by name (package name, and a short alias). */
export const builtins: ReadonlyMap<string, LoadedPlugin> = new Map([
  ["@sluice/plugin-yfinance", fromPlugin(YFinance)],
  ["yfinance", fromPlugin(YFinance)],
  ["@sluice/plugin-yfinance/replay", fromPlugin(YahooReplay)],
  ["yahoo-replay", fromPlugin(YahooReplay)],
  ["@sluice/transport-http", fromPlugin(HttpTransportPlugin)],
  ["http", fromPlugin(HttpTransportPlugin)],
  ["@sluice/transport-console", fromPlugin(ConsoleTransportPlugin)],
  ["console", fromPlugin(ConsoleTransportPlugin)]
])

const knownOf = (kind: PluginKind) => [...builtins].filter(([, p]) => p.kind === kind).map(([name]) => name)

const isPlugin = (value: unknown): value is AnyPlugin =>
  typeof value === "object" &&
  value !== null &&
  "name" in value &&
  "kind" in value &&
  "layer" in value &&
  "config" in value &&
  typeof (value as { layer: unknown }).layer === "function" &&
  Schema.isSchema((value as { config: unknown }).config)

const isPath = (name: string) => name.startsWith(".") || isAbsolute(name)

/**
 * Resolves `name` for a `kind` plugin; relative paths and package names resolve from `dir` (the
 * config file's directory). The module must export a Plugin of that kind (any export name). A
 * module that is found but fails to import is a PluginImportError carrying its error; one that
 * would load its own copy of `effect` or `@sluice/core` is a PluginCopyError, and is not imported.
 */
export const resolvePlugin = (
  name: string,
  kind: PluginKind,
  dir: string
): Effect.Effect<LoadedPlugin, UnknownPluginError | PluginImportError | PluginCopyError> =>
  Effect.gen(function* () {
    const fail = (reason: string) => new UnknownPluginError({ plugin: name, kind, reason, known: knownOf(kind) })
    const builtin = builtins.get(name)
    if (builtin !== undefined) {
      if (builtin.kind !== kind) return yield* fail(`it is a ${builtin.kind} plugin`)
      return locatedIn(builtin, dir)
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
    return locatedIn(fromPlugin(plugin), dir)
  })
