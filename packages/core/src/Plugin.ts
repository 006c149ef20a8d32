/**
 * The Plugin contract: a package exports a `Plugin` value with a name, a kind, a config Schema and
 * `layer(config)`, which decodes the config and registers one instance of the source or transport
 * into the `Sources` or `Transports` registry. The runner loads plugins by package name or path;
 * code can use them directly. Projection plugins are the third kind (ProjectionPlugin.ts). A source
 * plugin may also declare the upcasters of the event types it emits (`upcasters`).
 */
import { Data, Effect, Layer, Schema, SchemaIssue, type Scope } from "effect"
import type { Source } from "./Source.ts"
import { Sources } from "./Sources.ts"
import type { Transport } from "./Transport.ts"
import { Transports } from "./Transports.ts"
import type { Upcaster } from "./Upcaster.ts"

export { FilePath, mapFilePaths } from "./FilePath.ts"
export {
  defineProjection,
  type ProjectionContext,
  type ProjectionInstance,
  type ProjectionPlugin,
  type ReadModelTable
} from "./ProjectionPlugin.ts"

/** A plugin's config is invalid: `message` names each bad field path and what was expected. */
export class PluginConfigError extends Data.TaggedError("PluginConfigError")<{
  readonly plugin: string
  readonly instance: string
  readonly details: string
}> {
  override get message() {
    return `invalid config for ${this.instance} (plugin ${this.plugin}):\n${this.details}`
  }
}

/** A plugin could not start (e.g. a bad URL discovered while building its client). */
export class PluginStartError extends Data.TaggedError("PluginStartError")<{
  readonly plugin: string
  readonly instance: string
  readonly reason: string
}> {
  override get message() {
    return `${this.instance} (plugin ${this.plugin}) could not start: ${this.reason}`
  }
}

type Kinds = { readonly source: Source; readonly transport: Transport }

export interface Plugin<Kind extends keyof Kinds, C, R = never> {
  /** The package name, e.g. `@sluice/transport-http`. */
  readonly name: string
  readonly kind: Kind
  /**
   * The config Schema; its JSON Schema documents the config file. Give options that are paths the
   * `FilePath` schema: the runner resolves relative ones against the config file's folder.
   */
  readonly config: Schema.Codec<C, unknown>
  /**
   * Decodes `config` and registers one instance named `instance` (default: the plugin's name).
   */
  readonly layer: (
    config: unknown,
    instance?: string
  ) => Layer.Layer<
    never,
    PluginConfigError | PluginStartError,
    Exclude<R, Scope.Scope> | (Kind extends "source" ? Sources : Transports)
  >
  /** Builds an instance from an already-decoded config (for composing in code). */
  readonly make: (config: C, instance: string) => Effect.Effect<Kinds[Kind], PluginStartError, R | Scope.Scope>
  /**
   * Source plugins: the upcasters of the event types its sources emit (their older schema versions
   * to the latest). The runner registers those of every plugin it loads; in code, pass them to
   * `Upcasters.layer`. @default none
   */
  readonly upcasters?: ReadonlyArray<Upcaster>
}

const formatIssue = SchemaIssue.makeFormatterDefault()

/** Decodes a plugin config, reporting every bad field with its path. */
export const decodeConfig = <C>(
  plugin: { readonly name: string; readonly config: Schema.Codec<C, unknown> },
  instance: string,
  config: unknown
): Effect.Effect<C, PluginConfigError> =>
  Schema.decodeUnknownEffect(plugin.config)(config, { errors: "all", onExcessProperty: "error" }).pipe(
    Effect.mapError(
      (error) => new PluginConfigError({ plugin: plugin.name, instance, details: formatIssue(error.issue) })
    )
  )

/** Defines a plugin from its name, kind, config Schema and an instance constructor. */
export const define = <Kind extends keyof Kinds, C, R = never>(definition: {
  readonly name: string
  readonly kind: Kind
  readonly config: Schema.Codec<C, unknown>
  readonly make: (config: C, instance: string) => Effect.Effect<Kinds[Kind], PluginStartError, R | Scope.Scope>
  /** A source plugin's upcasters (see `Plugin.upcasters`). */
  readonly upcasters?: Kind extends "source" ? ReadonlyArray<Upcaster> : never
}): Plugin<Kind, C, R> => ({
  ...definition,
  layer: (config, instance = definition.name) =>
    Layer.effectDiscard(
      Effect.gen(function* () {
        const decoded = yield* decodeConfig(definition, instance, config)
        const made = yield* definition.make(decoded, instance)
        if (definition.kind === "source") yield* (yield* Sources).register(made as Source)
        else yield* (yield* Transports).register(made as Transport)
      })
    ) as Layer.Layer<
      never,
      PluginConfigError | PluginStartError,
      Exclude<R, Scope.Scope> | (Kind extends "source" ? Sources : Transports)
    >
})
