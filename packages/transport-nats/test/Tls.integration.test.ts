/**
 * TLS against a private server with a certificate from a throwaway CA (made with openssl): the `ca`
 * file verifies it; without it the start fails (the certificate is not trusted).
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, it } from "@effect/vitest"
import { noDeadline } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect, Schema } from "effect"
import { make } from "../src/NatsTransport.ts"
import { NatsTransportConfig } from "../src/NatsTransportConfig.ts"
import { uniqueName } from "./nats.ts"
import { privateServer } from "./privateServer.ts"

it.live("a server certificate is verified against the configured CA", () =>
  Effect.gen(function* () {
    const dir = mkdtempSync(join(tmpdir(), "sluice-tls-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true })))
    const file = (name: string) => join(dir, name)
    const openssl = (...args: ReadonlyArray<string>) => execFileSync("openssl", args, { stdio: "ignore" })
    openssl(
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=sluice-test-ca",
      "-keyout",
      file("ca.key"),
      "-out",
      file("ca.pem")
    )
    openssl(
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-subj",
      "/CN=127.0.0.1",
      "-keyout",
      file("server.key"),
      "-out",
      file("server.csr")
    )
    writeFileSync(file("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(
      "x509",
      "-req",
      "-in",
      file("server.csr"),
      "-CA",
      file("ca.pem"),
      "-CAkey",
      file("ca.key"),
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      file("ext.cnf"),
      "-out",
      file("server.pem")
    )
    const server = yield* privateServer(["--tls", "--tlscert", file("server.pem"), "--tlskey", file("server.key")])
    const prefix = uniqueName("tls")
    const decode = Schema.decodeUnknownSync(NatsTransportConfig)
    const transport = yield* make(
      decode({
        servers: [server.url],
        subject: `${prefix}.{topic}`,
        tls: { ca: file("ca.pem") },
        ensureStream: { name: uniqueName("S"), storage: "memory" }
      }),
      "nats"
    )
    const outcomes = yield* transport.publish([TransportContract.envelope(makeEvent())], noDeadline)
    assert.deepStrictEqual(
      outcomes.map((o) => o._tag),
      ["Delivered"]
    )
    const untrusted = yield* Effect.flip(make(decode({ servers: [server.url], tls: {} }), "nats"))
    assert.strictEqual(untrusted._tag, "PluginStartError")
  })
)
