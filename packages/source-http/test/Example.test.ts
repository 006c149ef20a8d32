// The README's code example, compiled and run: a handler over the memory store answers a POST.
import { assert, it } from "@effect/vitest"
import { layerMemory, makeRouterUnsafe } from "@sluice/core"
import { Effect } from "effect"
import { makePushHandler } from "../src/index.ts"

it.live("README: a push handler in code", () =>
  Effect.promise(async () => {
    // #region code
    const router = makeRouterUnsafe([{ name: "all", transport: "console", topic: "in", match: ["**"] }])
    const handler = await Effect.runPromise(
      makePushHandler({
        name: "inbox",
        router,
        config: { auth: { type: "bearer", token: "a-token-of-16-chars-or-more" } }
      }).pipe(Effect.provide(layerMemory))
    )
    // Deno.serve({ port: 9466 }, handler.fetch), Bun.serve({ fetch: handler.fetch }), or directly:
    const response = await handler.fetch(
      new Request("http://localhost/", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer a-token-of-16-chars-or-more" },
        body: JSON.stringify({ event_type: "order.created", entity_type: "order", entity_id: "1", payload: {} })
      })
    )
    // #endregion
    assert.strictEqual(response.status, 200)
    const body = (await response.json()) as { event_ids: Array<string> }
    assert.strictEqual(body.event_ids.length, 1)
  })
)
