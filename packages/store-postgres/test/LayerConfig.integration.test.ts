/**
 * `PgEventStore.layerConfig`: the store's settings read through Effect's Config, so an application
 * (or a test) decides where they come from with a ConfigProvider instead of `process.env`.
 */
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigProvider, Effect, Layer } from "effect"
import { isCurrent, migrationStatus, PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

const fromConfig = PgEventStore.layerConfig({
  url: Config.Redacted("DATABASE_URL"),
  schema: Config.String("SLUICE_SCHEMA"),
  poolSize: Config.succeed(1)
})

const provider = (env: Record<string, string>) => ConfigProvider.layer(ConfigProvider.fromEnvRecord(env))

describe("PgEventStore.layerConfig", () => {
  it.live("opens and migrates the store its Config names", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("layer_config")
      yield* Effect.addFinalizer(() => dropSchema(schema))
      const status = yield* migrationStatus({ schema }).pipe(
        Effect.provide(fromConfig.pipe(Layer.provide(provider({ DATABASE_URL: databaseUrl, SLUICE_SCHEMA: schema }))))
      )
      assert.isTrue(isCurrent(status))
    }).pipe(Effect.scoped)
  )

  it.live("a missing setting fails the layer with a ConfigError naming it, before connecting", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        Layer.build(fromConfig.pipe(Layer.provide(provider({ SLUICE_SCHEMA: "never_created" }))))
      )
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(String(error), "DATABASE_URL")
    }).pipe(Effect.scoped)
  )
})
