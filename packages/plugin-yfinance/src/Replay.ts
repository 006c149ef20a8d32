/**
 * `@sluice/plugin-yfinance/replay`: the Yahoo Finance source running offline. It is the real plugin
 * (yahoo-finance2, its crumb handshake, the transformer) handed a fetch that answers from recorded
 * exchanges in a directory instead of the network, so a whole pipeline runs without internet.
 * Without `recordings` it replays the set shipped in this package (`recordings/`). A separate entry
 * point, because it reads files: the main entry needs no file system.
 */
import { readdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Plugin } from "@sluice/core"
import { Data, Effect, Schema } from "effect"
import { modeRules, YFinanceConfig } from "./Config.ts"
import { make as makeSource } from "./Plugin.ts"
import { makeReplayFetch, type Recording } from "./ReplayFetch.ts"
import { layerFetch } from "./YahooFetch.ts"

/**
 * The recordings shipped with the package: the crumb handshake, quotes of AAPL and BABA (one
 * request for both), and daily bars from 2020-01-01 to 2020-01-03 of AAPL, BTC-USD, EURUSD=X and GC=F.
 */
export const shippedRecordings: string = fileURLToPath(
  // `src/Replay.ts` in the workspace, `dist/src/Replay.js` once packed: the folder sits at the package root.
  new URL(import.meta.url.includes("/dist/src/") ? "../../recordings/" : "../recordings/", import.meta.url)
)

/** The replay's config: every plugin-yfinance option, plus where the recordings are. */
export const YahooReplayConfig = Schema.Struct({
  ...YFinanceConfig.fields,
  /** Directory of recordings (yahoo-finance2's fixture format). @default the shipped recordings */
  recordings: Schema.optionalKey(Plugin.FilePath),
  /** Skip recording files whose name contains one of these strings. @default [] */
  exclude: Schema.optionalKey(Schema.Array(Schema.String))
}).check(modeRules)
export type YahooReplayConfig = typeof YahooReplayConfig.Type

/** The recordings directory cannot be read, holds no recording, or holds a file that is not JSON. */
export class RecordingsError extends Data.TaggedError("RecordingsError")<{
  readonly dir: string
  readonly reason: string
}> {
  override get message() {
    return `cannot read recordings in ${this.dir}: ${this.reason}`
  }
}

const reasonOf = (cause: unknown) => (cause instanceof Error ? cause.message : String(cause))

/** Reads every `*.json` recording of `dir`, sorted by name (later files win on equal requests). */
export const readRecordings = (
  dir: string,
  exclude: ReadonlyArray<string> = []
): Effect.Effect<Array<Recording>, RecordingsError> =>
  Effect.gen(function* () {
    const names = yield* Effect.tryPromise({
      try: () => readdir(dir),
      catch: (cause) => new RecordingsError({ dir, reason: reasonOf(cause) })
    })
    const chosen = names.filter((name) => name.endsWith(".json") && !exclude.some((part) => name.includes(part))).sort()
    if (chosen.length === 0) return yield* new RecordingsError({ dir, reason: "it holds no recording (*.json)" })
    return yield* Effect.forEach(chosen, (name) =>
      Effect.tryPromise({
        try: async () => JSON.parse(await readFile(join(dir, name), "utf8")) as Recording,
        catch: (cause) => new RecordingsError({ dir, reason: `${name}: ${reasonOf(cause)}` })
      })
    )
  })

const name = "@sluice/plugin-yfinance/replay"

/**
 * Builds the offline Yahoo source named `instance`: reads the recordings, then a plugin-yfinance
 * source whose requests they answer (a request nobody recorded gets Yahoo's 404). A relative
 * `recordings` is relative to the config file under the `sluice` runner, and to the working
 * directory from code.
 */
export const make = ({ recordings, exclude, ...config }: YahooReplayConfig, instance: string) =>
  Effect.gen(function* () {
    const replay = makeReplayFetch(
      yield* readRecordings(recordings ?? shippedRecordings, exclude).pipe(
        Effect.mapError((error) => new Plugin.PluginStartError({ plugin: name, instance, reason: error.message }))
      )
    )
    return yield* makeSource(config, instance).pipe(Effect.provide(layerFetch(replay.fetch)))
  })

/** The offline Yahoo source plugin: `YahooReplayPlugin.layer(config, instance)` registers `make`'s source. */
export const YahooReplayPlugin = Plugin.define({ name, kind: "source", config: YahooReplayConfig, make })
