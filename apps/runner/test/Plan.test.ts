/**
 * Resolving plugins (built-in, by path, unknown) and decoding each plugin's options with the
 * field path of the config prefixed to every error.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeConfig } from "../src/ConfigFile.ts"
import { plan } from "../src/Plan.ts"
import { resolvePlugin } from "../src/PluginLoader.ts"

const fixtures = new URL("./fixtures/", import.meta.url).pathname

const planOf = (raw: unknown) =>
  Effect.flatMap(decodeConfig("c.json", raw, {}), (config) => plan({ file: "c.json", dir: fixtures, config }))

describe("plugin resolution", () => {
  it.effect("built-in names and aliases resolve to the workspace plugins", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        (yield* resolvePlugin("@sluice/transport-http", "transport", fixtures)).name,
        "@sluice/transport-http"
      )
      assert.strictEqual((yield* resolvePlugin("console", "transport", fixtures)).name, "@sluice/transport-console")
      assert.strictEqual((yield* resolvePlugin("yfinance", "source", fixtures)).name, "@sluice/plugin-yfinance")
    })
  )

  it.effect("a path resolves against the config's directory to a module exporting a Plugin", () =>
    Effect.gen(function* () {
      const plugin = yield* resolvePlugin("./counter-source.ts", "source", fixtures)
      assert.strictEqual(plugin.name, "counter-source")
      assert.strictEqual(plugin.kind, "source")
    })
  )

  it.effect("an unknown plugin is a clear error listing the known ones", () =>
    Effect.gen(function* () {
      const unknown = yield* Effect.flip(resolvePlugin("@acme/nope", "transport", fixtures))
      assert.strictEqual(unknown._tag, "UnknownPluginError")
      assert.include(unknown.message, '"@acme/nope": no such package installed')
      assert.include(unknown.message, "@sluice/transport-http, http, @sluice/transport-console, console")
      const wrongKind = yield* Effect.flip(resolvePlugin("console", "source", fixtures))
      assert.include(wrongKind.message, "it is a transport plugin")
      const missingFile = yield* Effect.flip(resolvePlugin("./missing.ts", "source", fixtures))
      assert.include(missingFile.message, "importing it failed")
      const notAPlugin = yield* Effect.flip(resolvePlugin("../../src/Config.ts", "source", fixtures))
      assert.include(notAPlugin.message, "the module exports no Plugin")
    })
  )
})

describe("plan", () => {
  it.effect("decodes each plugin's options with the field path prefixed, all problems at once", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        planOf({
          sources: [
            { name: "q", plugin: "yfinance", options: { symbols: [], colour: "red" } },
            { name: "c", plugin: "./counter-source.ts", options: { total: "many", perTick: 1, prefix: "p" } }
          ],
          transports: [
            { name: "hook", plugin: "http", options: { url: "ftp://x", secrets: ["whsec_AAAA"] } },
            { name: "x", plugin: "kafka" }
          ],
          routes: [{ name: "r", transport: "hook", topic: "t", match: ["**"] }]
        })
      )
      assert.strictEqual(error._tag, "ConfigFileError")
      for (const expected of [
        'at ["sources"][0]["options"]["symbols"]',
        'at ["sources"][0]["options"]["colour"]',
        'at ["sources"][1]["options"]["total"]',
        'at ["transports"][0]["options"]["url"]',
        'unknown transport plugin "kafka"',
        'at ["transports"][1]["plugin"]'
      ]) {
        assert.include(error.message, expected)
      }
    })
  )

  it.effect("yahoo-replay checks its own options and the plugin-yfinance ones", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        planOf({ sources: [{ name: "q", plugin: "yahoo-replay", options: { symbols: ["AAPL"], mode: "bars" } }] })
      )
      assert.include(error.message, 'at ["sources"][0]["options"]["recordings"]')
      assert.include(error.message, 'at ["sources"][0]["options"]["mode"]')
      const ok = yield* planOf({
        sources: [{ name: "q", plugin: "yahoo-replay", options: { recordings: "x", symbols: ["AAPL"] } }]
      })
      assert.strictEqual(ok.sources[0]!.plugin.name, "yahoo-replay")
    })
  )
})
