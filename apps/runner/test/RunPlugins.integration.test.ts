/**
 * The plugin instances of `sluice run`: the runner gives webhook transports the Node sender
 * (node:http, keep-alive) instead of the portable fetch one.
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { noDeadline, Transports } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect } from "effect"
import { decodeConfig } from "../src/ConfigFile.ts"
import { plan } from "../src/Plan.ts"
import { pluginLayer } from "../src/Run.ts"
import { withEnv } from "./support/config.ts"

const fixtures = new URL("./fixtures/", import.meta.url).pathname
const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

/** A receiver answering 204 that records each request's headers; closed with the scope. */
const receiver = Effect.acquireRelease(
  Effect.callback<{ readonly url: string; readonly headers: Array<IncomingHttpHeaders>; readonly close: () => void }>(
    (resume) => {
      const headers: Array<IncomingHttpHeaders> = []
      const server = createServer((req, res) => {
        headers.push(req.headers)
        req.resume()
        req.on("end", () => res.writeHead(204).end())
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        resume(
          Effect.succeed({
            url: `http://127.0.0.1:${port}/hook`,
            headers,
            close: () => {
              server.closeAllConnections()
              server.close()
            }
          })
        )
      })
    }
  ),
  (r) => Effect.sync(r.close)
)

describe("sluice run's plugin instances", () => {
  it.live("webhook transports send with node:http over a kept-alive connection, not fetch", () =>
    Effect.gen(function* () {
      const { url, headers } = yield* receiver
      const config = yield* decodeConfig("c.json", {
        store: { driver: "memory" },
        transports: [{ name: "hook", plugin: "http", options: { url, secrets: [secret] } }],
        routes: [{ name: "r", transport: "hook", topic: "t", match: ["**"] }]
      }).pipe(withEnv())
      const planned = yield* plan({ file: "c.json", dir: fixtures, config })
      const outcomes = yield* Effect.gen(function* () {
        const transport = yield* (yield* Transports).get("hook")
        return yield* transport.publish(
          [1, 2].map(() => TransportContract.envelope(makeEvent())),
          noDeadline
        )
      }).pipe(Effect.provide(pluginLayer(planned)))
      assert.deepStrictEqual(
        outcomes.map((o) => o._tag),
        ["Delivered", "Delivered"]
      )
      // fetch (undici) adds `sec-fetch-mode: cors`; node:http does not, and its Agent keeps connections alive.
      assert.deepStrictEqual(
        headers.map((h) => [h["sec-fetch-mode"], h.connection]),
        [
          [undefined, "keep-alive"],
          [undefined, "keep-alive"]
        ]
      )
    })
  )
})
