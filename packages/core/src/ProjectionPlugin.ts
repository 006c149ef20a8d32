/**
 * The projection plugin kind: a package exports a `ProjectionPlugin` (made with
 * `Plugin.defineProjection`) whose `make(config, instance)` builds a projection named after its
 * instance, with the setup its read model needs. The runner loads it by package name or path, as
 * it does sources and transports, and runs it beside the relay (`projections` in its config).
 *
 * Core knows no SQL: a projection whose read model lives in the store's database says so with
 * `usesSql`, and its effects require the SqlClient the runner provides from the store it opened
 * (the runner refuses such a projection on the memory store).
 */
import type { Effect, Schema } from "effect"
import type { PluginStartError } from "./Plugin.ts"
import type { Projection } from "./Projection.ts"

/** What a projection plugin builds: the projection (named after the instance) and its setup. */
export interface ProjectionInstance<R> {
  readonly projection: Projection<unknown, R>
  /**
   * Creates the read model's tables when missing (idempotent: `CREATE TABLE IF NOT EXISTS`). The
   * runner runs it before the projection starts and before a rebuild. @default nothing
   */
  readonly setup?: Effect.Effect<void, unknown, R>
  /** The read model's newest rows, at most `limit` per table, for `sluice projection show`. @default none */
  readonly show?: (limit: number) => Effect.Effect<ReadonlyArray<ReadModelTable>, unknown, R>
}

/** One table of a read model, as `sluice projection show` prints it. */
export interface ReadModelTable {
  readonly name: string
  /** Plain JSON values, the same on every driver (cast bigint and numeric columns in SQL). */
  readonly rows: ReadonlyArray<Readonly<Record<string, unknown>>>
  /** How many rows the table holds, when the plugin counts them (`rows` may be fewer). */
  readonly total?: number
}

/** Where the runner runs a projection, for a read model to place and guard its tables by. */
export interface ProjectionContext {
  /**
   * The SQL schema of the store the runner opened (its `store.schema`), which holds the
   * projection's checkpoint; undefined on a store without SQL (memory). Read models of pipelines
   * with different store schemas must not share tables: each would replay into the other's rows.
   */
  readonly storeSchema: string | undefined
}

export interface ProjectionPlugin<C, R = never> {
  /** The package name (or entry point), e.g. `@sluice/plugin-yfinance/read-model`. */
  readonly name: string
  readonly kind: "projection"
  /** The config Schema (the `options` of the config file's entry). */
  readonly config: Schema.Codec<C, unknown>
  /** The read model is in the store's SQL database: its effects require the store's SqlClient. */
  readonly usesSql: boolean
  /**
   * Builds the instance named `instance` (its projection's name: the checkpoint's key). The runner
   * passes `context`; code that builds a projection itself may leave it out.
   */
  readonly make: (
    config: C,
    instance: string,
    context?: ProjectionContext
  ) => Effect.Effect<ProjectionInstance<R>, PluginStartError>
}

/** Defines a projection plugin from its name, config Schema, `usesSql` and constructor. */
export const defineProjection = <C, R = never>(definition: {
  readonly name: string
  readonly config: Schema.Codec<C, unknown>
  readonly usesSql: boolean
  readonly make: (
    config: C,
    instance: string,
    context?: ProjectionContext
  ) => Effect.Effect<ProjectionInstance<R>, PluginStartError>
}): ProjectionPlugin<C, R> => ({ ...definition, kind: "projection" })
