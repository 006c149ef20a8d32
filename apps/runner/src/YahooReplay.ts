/**
 * `yahoo-replay`: the Yahoo Finance source running offline. It is the real `@sluice/plugin-yfinance`
 * (yahoo-finance2, its crumb handshake, the transformer), handed a fetch that answers from recorded
 * exchanges in a directory instead of the network, so the whole pipeline runs without internet.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { Plugin, Sources } from "@sluice/core"
import { layerFetch, YFinance, YFinanceConfig } from "@sluice/plugin-yfinance"
import { makeReplayFetch, type Recording } from "@sluice/plugin-yfinance/testing"
import { Context, Effect, Layer, Schema } from "effect"
import { formatIssueAt } from "./ConfigFile.ts"
import type { LoadedPlugin } from "./PluginLoader.ts"
import { issueProblems } from "./Problem.ts"

/** The directory relative paths in plugin options resolve against (the config file's). @default the working directory */
export const ConfigDir = Context.Reference<string>("@sluice/runner/ConfigDir", { defaultValue: () => process.cwd() })

/** The options of `yahoo-replay`: the plugin-yfinance options plus where the recordings are. */
export const YahooReplayOptions = Schema.Struct({
  /** Directory of recordings (yahoo-finance2's fixture format), relative to the config file. */
  recordings: Schema.String.pipe(Schema.check(Schema.isNonEmpty())),
  /** Skip recording files whose name contains one of these strings. @default [] */
  exclude: Schema.optionalKey(Schema.Array(Schema.String))
})

const split = (options: unknown) => {
  const record = typeof options === "object" && options !== null ? (options as Record<string, unknown>) : {}
  const { recordings, exclude, ...yahoo } = record
  return {
    own: { ...(recordings === undefined ? {} : { recordings }), ...(exclude === undefined ? {} : { exclude }) },
    yahoo
  }
}

const decodeOwn = Schema.decodeUnknownEffect(YahooReplayOptions)
const decodeYahoo = Schema.decodeUnknownEffect(YFinanceConfig)

/** Reads every `*.json` recording of `dir` (sorted by name; later files win on equal requests). */
export const readRecordings = (dir: string, exclude: ReadonlyArray<string>): Array<Recording> =>
  readdirSync(dir)
    .filter((name) => name.endsWith(".json") && !exclude.some((part) => name.includes(part)))
    .sort()
    .map((name) => JSON.parse(readFileSync(join(dir, name), "utf8")) as Recording)

const name = "yahoo-replay"

/** The built-in `yahoo-replay` source plugin. */
export const YahooReplay: LoadedPlugin = {
  name,
  kind: "source",
  schema: undefined,
  decode: (options, at) =>
    Effect.gen(function* () {
      const { own, yahoo } = split(options)
      const mine = yield* Effect.result(decodeOwn(own, { errors: "all", onExcessProperty: "error" }))
      const theirs = yield* Effect.result(decodeYahoo(yahoo, { errors: "all", onExcessProperty: "error" }))
      const problems = [mine, theirs].flatMap((r) => (r._tag === "Failure" ? issueProblems(r.failure.issue, at) : []))
      if (problems.length > 0) return yield* Effect.fail(problems)
      return { ...own, ...yahoo }
    }),
  layer: (options, instance) =>
    Layer.effectDiscard(
      Effect.gen(function* () {
        const { own, yahoo } = split(options)
        const decoded = yield* decodeOwn(own, { errors: "all", onExcessProperty: "error" }).pipe(
          Effect.mapError(
            (e) => new Plugin.PluginConfigError({ plugin: name, instance, details: formatIssueAt(e.issue, []) })
          )
        )
        const config = yield* Plugin.decodeConfig({ name, config: YFinanceConfig }, instance, yahoo)
        const dir = resolve(yield* ConfigDir, decoded.recordings)
        const recordings = yield* Effect.try({
          try: () => readRecordings(dir, decoded.exclude ?? []),
          catch: (cause) =>
            new Plugin.PluginStartError({
              plugin: name,
              instance,
              reason: `cannot read recordings in ${dir}: ${cause}`
            })
        })
        const replay = makeReplayFetch(recordings)
        const source = yield* YFinance.make(config, instance).pipe(Effect.provide(layerFetch(replay.fetch)))
        yield* (yield* Sources).register(source)
      })
    )
}
