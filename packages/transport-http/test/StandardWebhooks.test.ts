import { assert, describe, it } from "@effect/vitest"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect, Redacted } from "effect"
import { batchId } from "../src/HttpTransport.ts"
import { nodeCrypto } from "../src/node/index.ts"
import { makeSigner } from "../src/StandardWebhooks.ts"
import { webCrypto } from "../src/WebhookCrypto.ts"

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

  it.effect("node:crypto signs bit-identically to Web Crypto, and gives the same batch ids", () =>
    Effect.gen(function* () {
      const secrets = [Redacted.make("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"), Redacted.make("whsec_c2Vjb25kLWtleQ==")]
      const node = yield* makeSigner(secrets, nodeCrypto)
      const web = yield* makeSigner(secrets, webCrypto)
      const vector = yield* node.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}')
      assert.strictEqual(vector.split(" ")[0], "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
      for (const body of ["{}", '{"price":"é ü 漢字 🎉"}', "x".repeat(5000)]) {
        assert.strictEqual(yield* node.sign("id", 1700000000, body), yield* web.sign("id", 1700000000, body))
      }
      const envelopes = [makeEvent(), makeEvent({ entity_id: "ünïcode" })].map((event) =>
        TransportContract.envelope(event)
      )
      for (const batch of [envelopes, envelopes.slice(1), [...envelopes].reverse()]) {
        assert.strictEqual(batchId(batch, nodeCrypto.uuidV5), batchId(batch))
      }
    })
  )
})
