/**
 * Decoding the config file: defaults, errors with field paths (cross-field checks included),
 * `${NAME}` environment references and Redacted secrets, and the generated JSON Schema.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted } from "effect"
import { defineConfig } from "../src/Config.ts"
import { decodeConfig, substituteEnv } from "../src/ConfigFile.ts"
import { configJsonSchema } from "../src/JsonSchema.ts"
import * as Retention from "../src/Retention.ts"
import { envRef, withEnv } from "./support/config.ts"

const minimal = {
  transports: [{ name: "out", plugin: "console" }],
  routes: [{ name: "all", transport: "out", topic: "t", match: ["**"] }]
}

describe("config file decoding", () => {
  it.effect("fills every default", () =>
    Effect.gen(function* () {
      const config = yield* decodeConfig("c.json", minimal).pipe(withEnv())
      assert.deepStrictEqual(config.store, { driver: "auto", dataDir: ".sluice", schema: "sluice", poolSize: 10 })
      assert.deepStrictEqual(config.relay.retry, {
        maxAttempts: 5,
        baseDelayMs: 1000,
        maxDelayMs: 300_000,
        maxRetryAfterMs: 3_600_000
      })
      assert.strictEqual(config.relay.workers, 2)
      assert.strictEqual(config.relay.gracePeriod, "10 seconds")
      assert.deepStrictEqual(config.admin, { enabled: true, host: "127.0.0.1", port: 9464, allowedHosts: [] })
      assert.deepStrictEqual(config.logging, { level: "Info", format: "auto" })
      assert.deepStrictEqual(config.transports[0]!.options, {})
    })
  )

  it.effect("names the field path of every error, cross-field checks included", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        decodeConfig("bad.json", {
          store: { driver: "mysql" },
          sources: [{ name: "a b", plugin: "yfinance", schedule: { every: "soon" } }],
          transports: [
            { name: "out", plugin: "console" },
            { name: "out", plugin: "console" }
          ],
          routes: [{ name: "r", transport: "missing", topic: "t", match: ["**"] }],
          relay: { workers: 0 },
          typo: true
        }).pipe(withEnv())
      )
      assert.strictEqual(error._tag, "ConfigFileError")
      for (const expected of [
        'at ["store"]["driver"]',
        'at ["sources"][0]["name"]',
        'at ["sources"][0]["schedule"]["every"]',
        'at ["relay"]["workers"]',
        'at ["typo"]'
      ]) {
        assert.include(error.message, expected)
      }
      // The cross-field checks run in the same pass, although other fields fail to decode.
      for (const expected of [
        'duplicate transport name "out"\n  at ["transports"][1]["name"]',
        'no transport named "missing" (known: out)\n  at ["routes"][0]["transport"]'
      ]) {
        assert.include(error.message, expected)
      }
      const second = yield* Effect.flip(
        decodeConfig("bad.json", {
          transports: [
            { name: "out", plugin: "console" },
            { name: "out", plugin: "console" }
          ],
          routes: [{ name: "r", transport: "missing", topic: "t", match: ["**"] }],
          admin: { host: "0.0.0.0" }
        }).pipe(withEnv())
      )
      assert.include(second.message, 'duplicate transport name "out"\n  at ["transports"][1]["name"]')
      assert.include(second.message, 'no transport named "missing" (known: out)\n  at ["routes"][0]["transport"]')
      assert.include(second.message, 'at ["admin"]["token"]')
    })
  )

  it.effect("retention: defaults, per-route ages, null keeps, raw opt-in", () =>
    Effect.gen(function* () {
      const defaults = yield* decodeConfig("c.json", minimal).pipe(withEnv())
      assert.deepStrictEqual(defaults.retention, {
        enabled: true,
        every: "1 hour",
        delivered: "7 days",
        dead: "30 days",
        routes: {},
        batchSize: 1000
      })
      const config = yield* decodeConfig("c.json", {
        ...minimal,
        retention: { delivered: null, routes: { all: { delivered: "1 day" } }, raw: { olderThan: "90 days" } }
      }).pipe(withEnv())
      const policy = Retention.outboxPolicy(config.retention)
      assert.strictEqual(policy.delivered, null)
      assert.strictEqual(Duration.toMillis(policy.routes!.all!.delivered!), 86_400_000)
      assert.isFalse("dead" in policy.routes!.all!, "a route's dead age inherits the section's")
      assert.strictEqual(Duration.toMillis(Retention.rawPolicy(config.retention)!.olderThan), 90 * 86_400_000)
    })
  )

  it.effect("retention: every error names its field, a route override names a configured route", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        decodeConfig("bad.json", {
          ...minimal,
          retention: {
            delivered: "a week",
            dead: 0,
            batchSize: 0,
            every: "0 millis",
            routes: { nope: { dead: "1 day" }, all: { delivered: "-1 days" } },
            raw: {}
          }
        }).pipe(withEnv())
      )
      for (const expected of [
        'at ["retention"]["delivered"]',
        'at ["retention"]["dead"]',
        'at ["retention"]["batchSize"]',
        'at ["retention"]["every"]',
        'at ["retention"]["routes"]["all"]["delivered"]',
        'at ["retention"]["raw"]["olderThan"]',
        'no route named "nope" (routes: all)\n  at ["retention"]["routes"]["nope"]'
      ]) {
        assert.include(error.message, expected)
      }
    })
  )

  it.effect("replaces environment references and keeps secrets Redacted", () =>
    Effect.gen(function* () {
      const config = yield* decodeConfig("c.json", {
        ...minimal,
        store: { url: envRef("DB") },
        admin: { host: "0.0.0.0", token: envRef("TOKEN") },
        transports: [{ name: "out", plugin: "console", options: { note: `$${envRef("LITERAL")}` } }]
      }).pipe(withEnv({ DB: "postgres://u:secret@db/x", TOKEN: "0123456789abcdef0123" }))
      assert.isTrue(Redacted.isRedacted(config.store.url))
      assert.strictEqual(Redacted.value(config.store.url!), "postgres://u:secret@db/x")
      assert.notInclude(JSON.stringify(config), "secret@db")
      assert.notInclude(JSON.stringify(config), "0123456789abcdef0123")
      assert.deepStrictEqual(config.transports[0]!.options, { note: envRef("LITERAL") })
      const missing = yield* Effect.flip(
        decodeConfig("c.json", { ...minimal, store: { url: envRef("NOPE") } }).pipe(withEnv())
      )
      assert.include(missing.message, 'environment variable NOPE is not set\n  at ["store"]["url"]')
    })
  )

  it.effect("for the store commands, unset variables outside store, admin and logging are no problem", () =>
    Effect.gen(function* () {
      const raw = {
        ...minimal,
        store: { driver: "memory" },
        transports: [{ name: "out", plugin: "console", options: { secret: envRef("WEBHOOK_SECRET") } }]
      }
      const config = yield* decodeConfig("c.json", raw, "store").pipe(withEnv())
      assert.deepStrictEqual(config.transports[0]!.options, { secret: envRef("WEBHOOK_SECRET") })
      const all = yield* Effect.flip(decodeConfig("c.json", raw, "all").pipe(withEnv()))
      assert.include(all.message, "environment variable WEBHOOK_SECRET is not set")
      const admin = yield* Effect.flip(
        decodeConfig("c.json", { ...raw, admin: { token: envRef("TOKEN") } }, "store").pipe(withEnv())
      )
      assert.include(admin.message, 'environment variable TOKEN is not set\n  at ["admin"]["token"]')
      assert.notInclude(admin.message, "WEBHOOK_SECRET")
    })
  )

  it.effect("logging.level takes the names --log-level takes, and the capitalised ones", () =>
    Effect.gen(function* () {
      const level = (name: string) =>
        Effect.map(
          decodeConfig("c.json", { ...minimal, logging: { level: name } }).pipe(withEnv()),
          (c) => c.logging.level
        )
      assert.strictEqual(yield* level("debug"), "Debug")
      assert.strictEqual(yield* level("warning"), "Warn")
      assert.strictEqual(yield* level("all"), "All")
      assert.strictEqual(yield* level("Info"), "Info")
      const bad = yield* Effect.flip(level("verbose"))
      assert.include(bad.message, 'at ["logging"]["level"]')
    })
  )

  it.effect("store.url and DATABASE_URL are checked with the file, never quoted", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        decodeConfig("c.json", { ...minimal, store: { url: "mysql://u:hunter2@h/db" } }).pipe(
          withEnv({ DATABASE_URL: "not a url hunter2" })
        )
      )
      assert.include(
        error.message,
        'store.url: a mysql:// URL: only postgres:// and postgresql:// URLs are supported\n  at ["store"]["url"]'
      )
      assert.include(error.message, "DATABASE_URL (environment): not a URL")
      assert.notInclude(error.message, "hunter2")
      // DATABASE_URL is not used by the embedded store, so not checked for it.
      yield* decodeConfig("c.json", { ...minimal, store: { driver: "embedded" } }).pipe(
        withEnv({ DATABASE_URL: "not a url" })
      )
    })
  )

  it("substitutes inside nested arrays and objects", () => {
    const { value, problems } = substituteEnv({ a: [{ b: `x-${envRef("A")}-y` }] }, { A: "1" })
    assert.deepStrictEqual(value, { a: [{ b: "x-1-y" }] })
    assert.deepStrictEqual(problems, [])
  })

  it("defineConfig returns the config as written", () => {
    assert.deepStrictEqual(defineConfig(minimal), minimal)
  })
})

describe("config JSON Schema", () => {
  it("describes the file and the built-in plugins' options", () => {
    const schema = configJsonSchema() as {
      $schema: string
      additionalProperties: boolean
      properties: Record<string, { properties?: Record<string, unknown>; items?: { allOf?: Array<unknown> } }>
    }
    assert.strictEqual(schema.$schema, "https://json-schema.org/draft/2020-12/schema")
    assert.strictEqual(schema.additionalProperties, false)
    assert.hasAllKeys(schema.properties, [
      "$schema",
      "store",
      "sources",
      "transports",
      "routes",
      "relay",
      "admin",
      "logging",
      "projections",
      "telemetry",
      "retention"
    ])
    assert.property(schema.properties.relay!.properties!, "gracePeriod")
    const clauses = JSON.stringify(schema.properties.sources!.items!.allOf)
    assert.include(clauses, '"const":"@sluice/plugin-yfinance"')
    assert.include(clauses, '"symbols"')
    const transportClauses = JSON.stringify(schema.properties.transports!.items!.allOf)
    assert.include(transportClauses, '"const":"@sluice/transport-http"')
    assert.include(transportClauses, '"secrets"')
    const projectionClauses = JSON.stringify(schema.properties.projections!.items!.allOf)
    assert.include(projectionClauses, '"const":"@sluice/plugin-yfinance/read-model"')
  })
})

describe("routes[].publish", () => {
  const withPublish = (publish: unknown) => ({ ...minimal, routes: [{ ...minimal.routes[0], publish }] })

  it.effect("takes stored or latest (the relay publishes as stored when absent)", () =>
    Effect.gen(function* () {
      assert.isUndefined((yield* decodeConfig("c.json", minimal).pipe(withEnv())).routes[0]!.publish)
      assert.strictEqual(
        (yield* decodeConfig("c.json", withPublish("latest")).pipe(withEnv())).routes[0]!.publish,
        "latest"
      )
    })
  )

  it.effect("names the field of any other value", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(decodeConfig("c.json", withPublish("newest")).pipe(withEnv()))
      assert.include(error.message, 'at ["routes"][0]["publish"]')
    })
  )
})
