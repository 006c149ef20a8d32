/**
 * The NATS transport in a config file: it resolves by name and alias, its options decode with their
 * defaults, and a bad subject template stops the config check naming the field.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeConfig } from "../src/ConfigFile.ts"
import { plan } from "../src/Plan.ts"
import { withEnv } from "./support/config.ts"

const fixtures = new URL("./fixtures/", import.meta.url).pathname

const planOf = (raw: unknown) =>
  Effect.flatMap(decodeConfig("c.json", raw).pipe(withEnv()), (config) =>
    plan({ file: "c.json", dir: fixtures, config })
  )

const withTransport = (transport: Record<string, unknown>) => ({
  transports: [{ name: "bus", ...transport }],
  routes: [{ name: "r", transport: "bus", topic: "orders", match: ["**"] }]
})

describe("a nats transport in the config", () => {
  it.effect("decodes, by package name or alias, with its defaults and paths resolved", () =>
    Effect.gen(function* () {
      const byName = yield* planOf(withTransport({ plugin: "@sluice/transport-nats" }))
      assert.strictEqual(byName.transports[0]!.plugin.name, "@sluice/transport-nats")
      const byAlias = yield* planOf(
        withTransport({
          plugin: "nats",
          options: {
            servers: ["nats://a:4222", "nats://b:4222"],
            subject: "app.{topic}.{entity_type}.{event_type}",
            credsFile: "sluice.creds",
            ensureStream: { name: "EVENTS", duplicateWindow: "10 minutes", replicas: 3 }
          }
        })
      )
      const plugin = byAlias.transports[0]!.plugin
      assert.strictEqual(plugin.name, "@sluice/transport-nats")
      const decoded = (yield* plugin.decode(byAlias.transports[0]!.config.options, [])) as Record<string, unknown>
      assert.strictEqual(decoded.credsFile, `${fixtures}sluice.creds`)
      assert.strictEqual(decoded.maxInFlight, 1000)
      assert.strictEqual(decoded.noAsyncTraces, true)
    })
  )

  it.effect("a bad subject template, stream window or auth combination is an error naming the field", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        planOf({
          transports: [
            { name: "a", plugin: "nats", options: { subject: "sluice.{topik}" } },
            { name: "b", plugin: "nats", options: { subject: "sluice.*.{topic}" } },
            { name: "c", plugin: "nats", options: { ensureStream: { name: "S", duplicateWindow: "soon" } } },
            { name: "d", plugin: "nats", options: { token: "t", nkeySeed: "SUAB" } }
          ],
          routes: [{ name: "r", transport: "a", topic: "orders", match: ["**"] }]
        })
      )
      for (const expected of [
        'at ["transports"][0]["options"]["subject"]',
        "unknown placeholder {topik}",
        'at ["transports"][1]["options"]["subject"]',
        "wildcard",
        'at ["transports"][2]["options"]["ensureStream"]["duplicateWindow"]',
        'at ["transports"][3]["options"]',
        "give one way to authenticate, got token and nkeySeed"
      ]) {
        assert.include(error.message, expected)
      }
      assert.notInclude(error.message, "SUAB")
    })
  )
})
