// The README's composition example, compiled and run: the relay delivers an appended event through
// the HTTP transport to a receiver that verifies its signature.
import { assert, it } from "@effect/vitest"
import { EventStore, layerMemory, Relay, type Route, Transports } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { HttpTransportPlugin } from "../src/index.ts"
import { header, startReceiver } from "./receiver.ts"
import { verify } from "./verify.ts"

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

it.live("README: the relay delivers through the HTTP transport", () =>
  Effect.gen(function* () {
    const receiver = yield* startReceiver()
    const url = receiver.url
    // #region compose
    const routes: ReadonlyArray<Route> = [
      { name: "webhooks", transport: "webhooks", topic: "quotes", match: ["quote.*"] }
    ]
    const Webhooks = HttpTransportPlugin.layer(
      { url, secrets: [secret], mode: "single", timeoutMs: 5_000, headers: { "x-tenant": "acme" } },
      "webhooks"
    )
    const Live = Webhooks.pipe(Layer.provideMerge(Transports.layer), Layer.provideMerge(layerMemory))
    const program = Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent({ event_type: "quote.updated" })], ["webhooks"]))
      return yield* Relay.runOnce({ routes })
    })
    const report = yield* program.pipe(Effect.provide(Live))
    // #endregion
    assert.strictEqual(report.delivered, 1)
    const [request] = yield* receiver.requests
    assert.strictEqual(
      verify(request!.headers, request!.body, [secret], Number(header(request!, "webhook-timestamp"))),
      undefined
    )
    assert.strictEqual(header(request!, "x-tenant"), "acme")
    assert.strictEqual(header(request!, "sluice-topic"), "topic.webhooks")
  })
)
