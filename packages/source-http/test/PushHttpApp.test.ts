import { assert, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { toHttpEffect } from "../src/index.ts"
import { draft, harness, signed } from "./harness.ts"

it.live("serves through an Effect HttpRouter route", () =>
  Effect.gen(function* () {
    const h = yield* harness({ path: "/hooks", auth: { type: "none" } })
    const { handler, dispose } = HttpRouter.toWebHandler(
      HttpRouter.add("POST", "/hooks", toHttpEffect(h.handler)).pipe(Layer.provide(HttpServer.layerServices)),
      { disableLogger: true }
    )
    const request = yield* signed(JSON.stringify(draft(1)), { url: "http://push.test/hooks" })
    const response = yield* Effect.promise(() => handler(request))
    assert.strictEqual(response.status, 200)
    const body = (yield* Effect.promise(() => response.json())) as { event_ids: Array<string> }
    assert.strictEqual(body.event_ids.length, 1)
    assert.strictEqual(yield* h.eventCount, 1)
    yield* Effect.promise(() => dispose())
  })
)
