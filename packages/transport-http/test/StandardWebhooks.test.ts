import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { makeSigner } from "../src/StandardWebhooks.ts"

describe("StandardWebhooks signer", () => {
  // The example of the Standard Webhooks specification and its reference libraries.
  it.effect("reproduces the specification's test vector", () =>
    Effect.gen(function* () {
      const signer = yield* makeSigner([Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")])
      const signature = yield* signer.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
      assert.strictEqual(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
    })
  )

  it.effect("signs once per secret, in the configured order, space-separated", () =>
    Effect.gen(function* () {
      const a = Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
      const b = Redacted.make("whsec_c2Vjb25kLWtleQ==")
      const both = yield* (yield* makeSigner([a, b])).sign("id", 1, "{}")
      const first = yield* (yield* makeSigner([a])).sign("id", 1, "{}")
      const second = yield* (yield* makeSigner([b])).sign("id", 1, "{}")
      assert.strictEqual(both, `${first} ${second}`)
      assert.notStrictEqual(first, second)
    })
  )

  it.effect("refuses a secret that is not whsec_ + base64, naming its position and not its value", () =>
    Effect.gen(function* () {
      const error = yield* makeSigner([Redacted.make("whsec_c2Vjb25kLWtleQ=="), Redacted.make("hunter2")]).pipe(
        Effect.flip
      )
      assert.strictEqual(error._tag, "InvalidSecretError")
      assert.strictEqual(error.message, "secrets[1] is not a whsec_<base64 key> secret")
      assert.notInclude(error.message, "hunter2")
    })
  )
})
