import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, Schema } from "effect"
import { PushSourceConfig } from "../src/index.ts"

const decode = (input: unknown) =>
  Schema.decodeUnknownEffect(PushSourceConfig)(input, { errors: "all", onExcessProperty: "error" })

describe("PushSourceConfig", () => {
  it.effect("fills the defaults and keeps secrets Redacted", () =>
    Effect.gen(function* () {
      const secret = `whsec_${btoa("k".repeat(32))}`
      const config = yield* decode({ port: 9466, auth: { type: "standard-webhooks", secrets: [secret] } })
      assert.strictEqual(config.host, "127.0.0.1")
      assert.strictEqual(config.path, "/")
      assert.deepStrictEqual(config.format, { type: "events" })
      assert.strictEqual(config.limits.maxBodyBytes, 1_048_576)
      assert.strictEqual(config.auth.type === "standard-webhooks" && config.auth.tolerance, "5 minutes")
      assert.isTrue(config.auth.type === "standard-webhooks" && Redacted.isRedacted(config.auth.secrets[0]))
    })
  )

  it.effect("refuses auth none off loopback, a bad secret and secret headers kept, naming the field", () =>
    Effect.gen(function* () {
      const open = yield* Effect.flip(decode({ host: "0.0.0.0", port: 1, auth: { type: "none" } }))
      assert.include(open.message, "loopback")
      const secret = yield* Effect.flip(decode({ port: 1, auth: { type: "standard-webhooks", secrets: ["hunter2"] } }))
      assert.include(secret.message, "whsec_")
      assert.notInclude(secret.message, "hunter2")
      const kept = yield* Effect.flip(decode({ port: 1, auth: { type: "none" }, keepHeaders: ["authorization"] }))
      assert.include(kept.message, "keepHeaders")
    })
  )
})
