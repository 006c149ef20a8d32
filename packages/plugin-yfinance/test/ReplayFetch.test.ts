import { assert, describe, it } from "@effect/vitest"
import { makeReplayFetch, requestKey, toResponse } from "../src/testing/index.ts"

describe("ReplayFetch", () => {
  it("keys requests by method and sorted query, ignoring crumb and gcrumb", () => {
    assert.strictEqual(
      requestKey("get", "https://h/p?b=2&crumb=abc&a=1"),
      requestKey("GET", "https://h/p?a=1&b=2&crumb=xyz&gcrumb=q")
    )
    assert.notStrictEqual(
      requestKey("GET", "https://h/quote/AAPL"),
      requestKey("GET", "https://h/quote/AAPL?guccounter=1")
    )
    assert.notStrictEqual(requestKey("GET", "https://h/p"), requestKey("POST", "https://h/p"))
  })

  it("rebuilds each set-cookie value, drops content-length and gives redirects no body", async () => {
    const response = toResponse({
      status: 302,
      headers: { location: "https://x/", "set-cookie": ["a=1; Path=/", "b=2; Path=/"], "content-length": "12" },
      bodyText: "ignored"
    })
    assert.deepStrictEqual(response.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"])
    assert.isNull(response.headers.get("content-length"))
    assert.isNull(response.body)
    const json = toResponse({ status: 200, bodyJson: { ok: true } })
    assert.deepStrictEqual(await json.json(), { ok: true })
  })

  it("answers from the latest matching recording, 404s the rest and records every call", async () => {
    const replay = makeReplayFetch([
      { request: { url: "https://h/a?x=1" }, response: { status: 200, bodyText: "first" } },
      { request: { url: "https://h/a?x=1" }, response: { status: 200, bodyText: "second" } }
    ])
    assert.strictEqual(await (await replay.fetch("https://h/a?x=1&crumb=c")).text(), "second")
    const missing = await replay.fetch(new URL("https://h/b"))
    assert.strictEqual(missing.status, 404)
    assert.deepStrictEqual(
      replay.calls.map((c) => c.recording),
      [1, undefined]
    )
  })

  it("lets an intercept answer first, or fail like a network error", async () => {
    const replay = makeReplayFetch([], {
      intercept: ({ url }) => {
        if (url.pathname === "/down") throw new TypeError("fetch failed")
        return url.pathname === "/teapot" ? new Response(null, { status: 418 }) : undefined
      }
    })
    assert.strictEqual((await replay.fetch("https://h/teapot")).status, 418)
    let failed = false
    await replay.fetch("https://h/down").catch(() => {
      failed = true
    })
    assert.isTrue(failed)
    assert.strictEqual(replay.calls.length, 2)
  })
})
