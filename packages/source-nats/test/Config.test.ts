/**
 * The config: defaults, bad fields named, secrets kept Redacted (never echoed), and the nats.js
 * options it becomes (noAsyncTraces, endless reconnects, the right authenticator).
 */
import { describe, expect, it } from "@effect/vitest"
import { Plugin } from "@sluice/core"
import { Effect, Redacted } from "effect"
import { NatsSourceConfig, settings } from "../src/Config.ts"
import { connectionOptions } from "../src/NatsConnector.ts"
import { NatsSourcePlugin } from "../src/Plugin.ts"

const decode = (options: unknown) => Plugin.decodeConfig(NatsSourcePlugin, "orders", options)

describe("config", () => {
  it.effect("defaults: batches of 256, 4 batches in flight, a 5 s idle wait, consumer created", () =>
    Effect.gen(function* () {
      const config = yield* decode({ stream: "ORDERS", consumer: "ingest" })
      const set = settings(config)
      expect([set.batchSize, set.maxInFlight, set.maxAckPending, set.createConsumer]).toEqual([256, 1024, 10_000, true])
      expect(set.idleWait.toString()).toMatch(/5000/)
    })
  )

  it.effect("a bad field is named, with what was expected", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(decode({ stream: "OR DERS", consumer: "ingest", batchSize: 0, extra: 1 }))
      expect(error.message).toMatch(/\["stream"\]/)
      expect(error.message).toMatch(/\["batchSize"\]/)
      expect(error.message).toMatch(/\["extra"\]/)
      const small = yield* Effect.flip(decode({ stream: "S", consumer: "c", batchSize: 100, maxInFlight: 50 }))
      expect(small.message).toMatch(/at least batchSize\s+at \["maxInFlight"\]/)
    })
  )

  it.effect("secrets decode Redacted and never show in errors or the options' text", () =>
    Effect.gen(function* () {
      const config = yield* decode({ stream: "S", consumer: "c", auth: { user: "u", password: "hunter2" } })
      expect(JSON.stringify(config)).not.toMatch(/hunter2/)
      expect(String(config.auth && "password" in config.auth ? config.auth.password : "")).not.toMatch(/hunter2/)
      const bad = yield* Effect.flip(decode({ stream: "S", consumer: "c", auth: { token: "s3cret", user: 1 } }))
      expect(bad.message).not.toMatch(/s3cret/)
    })
  )

  it.effect("connection options: noAsyncTraces, endless reconnects, credentials revealed only there", () =>
    Effect.gen(function* () {
      const base = { servers: ["nats://a:4222"], name: "orders" }
      const user = yield* Effect.promise(() =>
        connectionOptions({ ...base, auth: { user: "u", password: Redacted.make("p") } }, () => Promise.reject())
      )
      expect(user).toMatchObject({ servers: ["nats://a:4222"], noAsyncTraces: true, maxReconnectAttempts: -1 })
      expect([user.user, user.pass]).toEqual(["u", "p"])
      const token = yield* Effect.promise(() =>
        connectionOptions({ ...base, auth: { token: Redacted.make("t") } }, () => Promise.reject())
      )
      expect(token.token).toBe("t")
      const tls = yield* Effect.promise(() =>
        connectionOptions({ ...base, tls: { caFile: "/ca.pem" } }, () => Promise.reject())
      )
      expect(tls.tls).toEqual({ caFile: "/ca.pem" })
    })
  )

  it("the schema is strict", () => {
    expect(NatsSourceConfig.fields.stream).toBeDefined()
  })
})
