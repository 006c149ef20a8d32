/**
 * Credentials against private servers that require them: a user with a password, a token, an NKey. A wrong
 * secret fails the start, and neither the error nor the decoded config shows the secret.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { nkeys } from "@nats-io/nats-core"
import { noDeadline } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect, Redacted, Schema } from "effect"
import { connectionOptions } from "../src/NatsConnection.ts"
import { make } from "../src/NatsTransport.ts"
import { NatsTransportConfig } from "../src/NatsTransportConfig.ts"
import { uniqueName } from "./nats.ts"
import { privateServer } from "./privateServer.ts"

const decode = Schema.decodeUnknownSync(NatsTransportConfig)

describe("credentials", () => {
  it.live(
    "a user and password, and a token, open the connection; a wrong one fails the start without showing it",
    () =>
      Effect.gen(function* () {
        const withUser = yield* privateServer(["--user", "sluice", "--pass", "s3cret-pass"])
        const prefix = uniqueName("cred")
        const ensureStream = { name: uniqueName("S"), storage: "memory" }
        const config = decode({
          servers: [withUser.url],
          subject: `${prefix}.{topic}`,
          user: "sluice",
          password: "s3cret-pass",
          ensureStream
        })
        assert.isTrue(Redacted.isRedacted(config.password))
        assert.notInclude(JSON.stringify(config), "s3cret-pass")
        const transport = yield* make(config, "nats")
        const outcomes = yield* transport.publish([TransportContract.envelope(makeEvent())], noDeadline)
        assert.deepStrictEqual(
          outcomes.map((o) => o._tag),
          ["Delivered"]
        )
        const wrong = yield* Effect.flip(
          make(decode({ servers: [withUser.url], user: "sluice", password: "not-the-pass" }), "nats")
        )
        assert.strictEqual(wrong._tag, "PluginStartError")
        assert.include(wrong.message, `could not connect to NATS at ${withUser.url}`)
        assert.notInclude(wrong.message, "not-the-pass")

        const withToken = yield* privateServer(["--auth", "t0ken-value"])
        yield* make(decode({ servers: [withToken.url], token: "t0ken-value" }), "nats")
        const badToken = yield* Effect.flip(make(decode({ servers: [withToken.url], token: "other-token" }), "nats"))
        assert.notInclude(badToken.message, "other-token")
      }),
    60_000
  )

  it.live("an NKey seed opens the connection to a server that knows its public key", () =>
    Effect.gen(function* () {
      const user = nkeys.createUser()
      const seed = new TextDecoder().decode(user.getSeed())
      const dir = mkdtempSync(join(tmpdir(), "sluice-nkey-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
      const conf = join(dir, "server.conf")
      writeFileSync(conf, `authorization { users: [ { nkey: "${user.getPublicKey()}" } ] }\n`)
      const server = yield* privateServer(["-c", conf])
      const config = decode({ servers: [server.url], nkeySeed: seed })
      assert.notInclude(JSON.stringify(config), seed)
      yield* make(config, "nats")
      const other = new TextDecoder().decode(nkeys.createUser().getSeed())
      const refused = yield* Effect.flip(make(decode({ servers: [server.url], nkeySeed: other }), "nats"))
      assert.notInclude(refused.message, other)
    })
  )

  it.effect("a creds file is read through the connector and becomes the authenticator", () =>
    Effect.gen(function* () {
      const read: Array<string> = []
      const options = yield* Effect.promise(() =>
        connectionOptions(decode({ credsFile: "/etc/sluice/app.creds" }), "bus", async (path) => {
          read.push(path)
          return new TextEncoder().encode("creds")
        })
      )
      assert.deepStrictEqual(read, ["/etc/sluice/app.creds"])
      assert.isFunction(options.authenticator)
      assert.strictEqual(options.name, "bus")
      assert.strictEqual(options.maxReconnectAttempts, -1)
    })
  )

  it("secrets decode Redacted, and a URL's user info is never in an error", () => {
    const config = decode({ servers: ["nats://u:pw@127.0.0.1:1"], token: "tok" })
    assert.isTrue(Redacted.isRedacted(config.token))
    assert.throws(() => decode({ user: "u" }), /user and password go together/)
    assert.throws(() => decode({ tls: { cert: "c.pem" } }), /cert and key go together/)
    assert.throws(() => decode({ servers: ["http://x"] }), /nats:\/\/ or tls:\/\//)
  })

  it.live("an unreachable server fails the start naming the servers, without their user info", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(make(decode({ servers: ["nats://u:pw@127.0.0.1:1"] }), "nats"))
      assert.include(error.message, "could not connect to NATS at nats://127.0.0.1:1")
      assert.notInclude(error.message, "pw")
    })
  )
})
