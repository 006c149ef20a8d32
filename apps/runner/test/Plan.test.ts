/**
 * Resolving plugins (built-in, by path, unknown) and decoding each plugin's options with the
 * field path of the config prefixed to every error.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeConfig } from "../src/ConfigFile.ts"
import { loadPlan, plan } from "../src/Plan.ts"
import { type LoadedPlugin, locatedIn, resolvePlugin } from "../src/PluginLoader.ts"
import { withEnv } from "./support/config.ts"

const fixtures = new URL("./fixtures/", import.meta.url).pathname

const planOf = (raw: unknown) =>
  Effect.flatMap(decodeConfig("c.json", raw).pipe(withEnv()), (config) =>
    plan({ file: "c.json", dir: fixtures, config })
  )

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
      assert.include(missingFile.message, `"./missing.ts": no such file: ${fixtures}missing.ts`)
      const notAPlugin = yield* Effect.flip(resolvePlugin("../../src/Config.ts", "source", fixtures))
      assert.include(notAPlugin.message, "the module exports no Plugin")
    })
  )
})

describe("a plugin module that fails to import", () => {
  it.effect("is reported with its own error and file, not as an unknown plugin", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(resolvePlugin("./throwing-source.ts", "source", fixtures))
      assert.strictEqual(error._tag, "PluginImportError")
      assert.include(
        error.message,
        `source plugin "./throwing-source.ts" failed to load (${fixtures}throwing-source.ts): Error: ACME_API_KEY is required to load this plugin`
      )
      assert.notInclude(error.message, "unknown")
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

  it.effect("the replay plugin checks its own options and the plugin-yfinance ones; yahoo-replay is its alias", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        planOf({
          sources: [
            {
              name: "q",
              plugin: "@sluice/plugin-yfinance/replay",
              options: { recordings: "", symbols: ["AAPL"], mode: "bars" }
            }
          ]
        })
      )
      assert.include(error.message, 'at ["sources"][0]["options"]["recordings"]')
      assert.include(error.message, 'at ["sources"][0]["options"]["mode"]')
      const ok = yield* planOf({
        sources: [
          { name: "q", plugin: "@sluice/plugin-yfinance/replay", options: { symbols: ["AAPL"] } },
          { name: "r", plugin: "yahoo-replay", options: { recordings: "x", symbols: ["AAPL"] } }
        ]
      })
      assert.deepStrictEqual(
        ok.sources.map((s) => s.plugin.name),
        ["@sluice/plugin-yfinance/replay", "@sluice/plugin-yfinance/replay"]
      )
    })
  )

  it.effect("the NATS source's options: bad fields named with their path; its creds file resolved", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        planOf({
          sources: [
            {
              name: "orders",
              plugin: "@sluice/source-nats",
              options: { stream: "ORD ERS", consumer: "ingest", batchSize: 0, auth: { token: "s3cret", user: 1 } }
            }
          ]
        })
      )
      assert.include(error.message, 'at ["sources"][0]["options"]["stream"]')
      assert.include(error.message, 'at ["sources"][0]["options"]["batchSize"]')
      assert.include(error.message, 'at ["sources"][0]["options"]["auth"]')
      assert.notInclude(error.message, "s3cret")
      const seen: Array<unknown> = []
      const nats = yield* resolvePlugin("@sluice/source-nats", "source", "/srv/sluice")
      const spy: LoadedPlugin = { ...nats, decode: (options) => Effect.sync(() => seen.push(options)) }
      yield* locatedIn(spy, "/srv/sluice").decode(
        { stream: "S", consumer: "c", auth: { credsFile: "keys/app.creds" }, tls: { caFile: "/etc/ca.pem" } },
        []
      )
      assert.deepStrictEqual(seen, [
        {
          stream: "S",
          consumer: "c",
          auth: { credsFile: "/srv/sluice/keys/app.creds" },
          tls: { caFile: "/etc/ca.pem" }
        }
      ])
    })
  )

  it.effect("a plugin's FilePath options resolve against the config's directory before the plugin sees them", () =>
    Effect.gen(function* () {
      const seen: Array<unknown> = []
      const replay = yield* resolvePlugin("yahoo-replay", "source", "/srv/sluice")
      const spy: LoadedPlugin = { ...replay, decode: (options) => Effect.sync(() => seen.push(options)) }
      const options = { recordings: "recorded/yahoo", symbols: ["./AAPL"] }
      yield* locatedIn(spy, "/srv/sluice").decode(options, [])
      yield* locatedIn(spy, "/srv/sluice").decode({ ...options, recordings: "/abs/dir" }, [])
      assert.deepStrictEqual(seen, [
        { recordings: "/srv/sluice/recorded/yahoo", symbols: ["./AAPL"] },
        { recordings: "/abs/dir", symbols: ["./AAPL"] }
      ])
      assert.deepStrictEqual(options.recordings, "recorded/yahoo")
    })
  )
})

describe("loadPlan: every problem of a file in one pass", () => {
  it.effect("the file's fields, cross-field checks, URLs, environment, plugins and their options together", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "sluice-plan-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 })))
      const file = join(dir, "sluice.json")
      writeFileSync(
        file,
        `{
          // comments are allowed
          "store": { "url": "postgres://u:p%zz@h/db" },
          "sources": [
            { "name": "q", "plugin": "yfinance", "options": { "symbols": [] } },
            { "name": "q", "plugin": "${fixtures}throwing-source.ts" },
            { "name": "k", "plugin": "@acme/kafka-source" }
          ],
          "transports": [
            { "name": "hook", "plugin": "http", "options": { "url": "https://x.example", "secrets": ["\${UNSET_SECRET}"] } }
          ],
          "routes": [{ "name": "r", "transport": "nope", "topic": "t", "match": ["**"] }],
          "relay": { "workers": 0 },
          "typo": true
        }`
      )
      const error = yield* Effect.flip(loadPlan(file).pipe(withEnv()))
      for (const expected of [
        'environment variable UNSET_SECRET is not set\n  at ["transports"][0]["options"]["secrets"][0]',
        'at ["typo"]',
        'at ["relay"]["workers"]',
        'duplicate source name "q"\n  at ["sources"][1]["name"]',
        'no transport named "nope" (known: hook)\n  at ["routes"][0]["transport"]',
        "store.url: the password has a '%' that is not a percent-escape",
        'Expected at least one symbol\n  at ["sources"][0]["options"]["symbols"]',
        "Error: ACME_API_KEY is required to load this plugin",
        'at ["sources"][1]["plugin"]',
        'unknown source plugin "@acme/kafka-source": no such package installed',
        'at ["sources"][2]["plugin"]'
      ]) {
        assert.include(error.message, expected)
      }
      // The emptied secret's own complaint follows from the unset variable: not reported twice.
      assert.strictEqual(error.message.split("secrets").length - 1, 1, error.message)
    }).pipe(Effect.scoped)
  )
})
