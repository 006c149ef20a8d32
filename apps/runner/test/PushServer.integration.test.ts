/**
 * A push source served by the runner's Node listener (PushServer.ts): what a hostile or broken
 * client does at the socket level (huge headers, a body that never ends or arrives too slowly, a
 * streamed body past the limit) gets an answer and stores nothing; closing the scope closes it.
 */
import { connect } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { EventStore, layerMemory, makeRouterUnsafe } from "@sluice/core"
import { PushSourceConfig, transformer } from "@sluice/source-http"
import { Effect, Exit, Layer, Logger, Schema, Scope } from "effect"
import * as PushServer from "../src/PushServer.ts"
import { send, sendUnfinished } from "./support/http.ts"

const router = makeRouterUnsafe([{ name: "all", transport: "t", topic: "in", match: ["**"] }])

const serve = (options: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(layerMemory, scope)
    const config = Schema.decodeUnknownSync(PushSourceConfig)({
      port: 0,
      path: "/in",
      auth: { type: "none" },
      ...options
    })
    const source = {
      name: "inbox",
      fetch: Effect.die("not fetched"),
      transform: transformer({ type: "events" })
    }
    const urls = yield* PushServer.start([{ source, config }], router).pipe(
      Effect.provideContext(context),
      Effect.provide(Logger.layer([])),
      Scope.provide(scope)
    )
    const port = Number(new URL(urls.get("inbox")!).port)
    const store = context.mapUnsafe.get(EventStore.key) as EventStore["Service"]
    const events = Effect.map(Effect.orDie(store.readEvents(0, 1000)), (e) => e.length)
    return { port, scope, events }
  })

/** Sends raw bytes, then waits; resolves with what the server answers until it closes. */
const raw = (port: number, text: string) =>
  new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.write(text))
    const chunks: Array<Buffer> = []
    socket.on("data", (chunk: Buffer) => chunks.push(chunk))
    socket.on("close", () => resolve(Buffer.concat(chunks).toString("utf8")))
    socket.on("error", reject)
  })

const draft = JSON.stringify({ event_type: "a.b", entity_type: "x", entity_id: "1", payload: {} })

describe("PushServer", () => {
  it.live("serves the handler: 200 stores, and refusals at the socket level store nothing", () =>
    Effect.gen(function* () {
      const { port, scope, events } = yield* serve({ limits: { maxBodyBytes: 1024, timeout: "300 millis" } })
      const ok = yield* Effect.promise(() =>
        send(port, { method: "POST", path: "/in", headers: { "content-type": "application/json" }, body: draft })
      )
      assert.strictEqual(ok.status, 200)
      // Headers beyond Node's limit (16 KiB): 431 from the server, before the handler.
      const huge = yield* Effect.promise(() =>
        send(port, { method: "POST", path: "/in", headers: { "x-big": "v".repeat(20_000) }, body: draft })
      )
      assert.strictEqual(huge.status, 431)
      // A streamed body past the limit: 413 without reading the rest.
      const status = yield* Effect.promise(() =>
        sendUnfinished(port, {
          path: "/in",
          headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
          bytes: 64 * 1024
        })
      )
      assert.strictEqual(status, 413)
      // A body that stops arriving: 408 once the timeout passes.
      const slow = yield* Effect.promise(() =>
        raw(
          port,
          `POST /in HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"ev`
        )
      )
      assert.match(slow, /^HTTP\/1\.1 408/)
      assert.strictEqual(yield* events, 1)
      yield* Scope.close(scope, Exit.void)
    })
  )

  it.live("closing the scope closes the listener", () =>
    Effect.gen(function* () {
      const { port, scope } = yield* serve()
      yield* Scope.close(scope, Exit.void)
      const refused = yield* Effect.promise(() =>
        send(port, { method: "POST", path: "/in", headers: { "content-type": "application/json" }, body: draft }).then(
          () => false,
          () => true
        )
      )
      assert.isTrue(refused)
    })
  )
})
