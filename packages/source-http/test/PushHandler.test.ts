import { assert, describe, it } from "@effect/vitest"
import { Rederive } from "@sluice/core"
import { Effect } from "effect"
import { transformer, withDeliveryKeys } from "../src/index.ts"
import { call, draft, harness, mappedDevices, nowSeconds, router, secretA, secretB, signed, token } from "./harness.ts"

const webhooks = { auth: { type: "standard-webhooks" as const, secrets: [secretA] } }

describe("PushHandler", () => {
  it.live("stores a signed webhook's events before answering 2xx with their ids", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      const res = yield* call(h.handler, yield* signed(JSON.stringify([draft(1), draft(2)])))
      assert.strictEqual(res.status, 200)
      const ids = res.body.event_ids as Array<string>
      assert.strictEqual(ids.length, 2)
      assert.deepStrictEqual(res.body.appended, ids)
      assert.deepStrictEqual(res.body.duplicates, [])
      assert.strictEqual(yield* h.eventCount, 2)
      assert.strictEqual(yield* h.outboxCount, 2)
      const [raw] = yield* h.raws
      assert.strictEqual(raw?.raw.raw_id, res.body.raw_id)
      assert.strictEqual(raw?.raw.body, JSON.stringify([draft(1), draft(2)]))
      assert.strictEqual(raw?.raw.content_type, "application/json")
      const request = raw?.raw.request as { headers: Record<string, string>; delivery_id: string }
      assert.strictEqual(request.delivery_id, "msg_1")
      assert.strictEqual(request.headers["webhook-id"], "msg_1")
      assert.notProperty(request.headers, "webhook-signature")
    })
  )

  it.live("answers a redelivery with the original ids and stores nothing new, also concurrently", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      const body = JSON.stringify([draft(1), draft(2)])
      const first = yield* call(h.handler, yield* signed(body, { id: "msg_9" }))
      const again = yield* Effect.forEach(
        [1, 2, 3, 4],
        () => Effect.flatMap(signed(body, { id: "msg_9" }), (req) => call(h.handler, req)),
        { concurrency: "unbounded" }
      )
      for (const res of again) {
        assert.strictEqual(res.status, 200)
        assert.deepStrictEqual(res.body.event_ids, first.body.event_ids)
        assert.deepStrictEqual(res.body.duplicates, first.body.event_ids)
        assert.strictEqual(res.body.redelivery, true)
        assert.strictEqual(res.body.raw_id, first.body.raw_id)
      }
      // The id reused with another body (valid or not) is refused: nothing of it is stored.
      for (const other of [JSON.stringify([draft(7)]), JSON.stringify([{ event_type: "x" }])]) {
        const changed = yield* call(h.handler, yield* signed(other, { id: "msg_9" }))
        assert.strictEqual(changed.status, 422)
        assert.strictEqual(changed.body.error, "delivery_id_reused")
        assert.include(String(changed.body.reason), "already used with a different payload")
      }
      assert.strictEqual((yield* h.raws).length, 1)
      assert.strictEqual(yield* h.eventCount, 2)
      assert.strictEqual(yield* h.outboxCount, 2)
    })
  )

  it.live("first deliveries racing each other store once", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      const body = JSON.stringify(draft(3))
      const results = yield* Effect.forEach(
        [1, 2, 3, 4, 5, 6],
        () => Effect.flatMap(signed(body, { id: "race" }), (req) => call(h.handler, req)),
        { concurrency: "unbounded" }
      )
      const ids = new Set(results.map((r) => JSON.stringify(r.body.event_ids)))
      assert.strictEqual(ids.size, 1)
      assert.strictEqual(results.filter((r) => r.body.redelivery === false).length, 1)
      assert.strictEqual((yield* h.raws).length, 1)
      assert.strictEqual(yield* h.eventCount, 1)
    })
  )

  it.live("400 names the bad field and keeps the raw payload with its reason; nothing else stored", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      const bad = JSON.stringify([draft(1), { ...draft(2), entity_id: 42 }])
      const res = yield* call(h.handler, yield* signed(bad, { id: "bad" }))
      assert.strictEqual(res.status, 400)
      assert.strictEqual(res.body.error, "invalid_events")
      assert.include(res.body.reason as string, "[1]")
      assert.include(res.body.reason as string, "entity_id")
      assert.strictEqual(yield* h.eventCount, 0)
      const [raw] = yield* h.raws
      assert.strictEqual(raw?.raw.raw_id, res.body.raw_id)
      assert.include(raw?.raw.transform_error ?? "", "entity_id")
      // Fixed and sent again under the same id, it is a first delivery (the refusal did not count).
      const fixed = yield* call(h.handler, yield* signed(JSON.stringify([draft(1)]), { id: "bad" }))
      assert.strictEqual(fixed.status, 200)
      assert.strictEqual(fixed.body.redelivery, false)
      assert.strictEqual(yield* h.eventCount, 1)
    })
  )

  it.live("400 on bad JSON and on invalid UTF-8, both kept", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" } })
      const json = yield* call(
        h.handler,
        new Request("http://push.test/", {
          method: "POST",
          body: "{nope",
          headers: { "content-type": "application/json" }
        })
      )
      assert.strictEqual(json.status, 400)
      assert.strictEqual(json.body.error, "bad_json")
      assert.include(json.body.reason as string, "body is not JSON")
      const bytes = yield* call(
        h.handler,
        new Request("http://push.test/", {
          method: "POST",
          body: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
          headers: { "content-type": "application/json" }
        })
      )
      assert.strictEqual(bytes.status, 400)
      assert.include(bytes.body.reason as string, "UTF-8")
      assert.strictEqual((yield* h.raws).length, 2)
      assert.strictEqual(yield* h.eventCount, 0)
    })
  )

  it.live("401 on a missing or wrong signature and on a stale timestamp; nothing stored", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      const body = JSON.stringify(draft(1))
      const unsigned = new Request("http://push.test/", {
        method: "POST",
        body,
        headers: { "content-type": "application/json" }
      })
      assert.strictEqual((yield* call(h.handler, unsigned)).status, 401)
      const wrongKey = yield* call(h.handler, yield* signed(body, { secrets: [secretB] }))
      assert.strictEqual(wrongKey.status, 401)
      assert.strictEqual(wrongKey.body.reason, "no signature matches")
      const stale = yield* call(h.handler, yield* signed(body, { timestamp: nowSeconds() - 600 }))
      assert.strictEqual(stale.status, 401)
      assert.include(stale.body.reason as string, "tolerance")
      const tampered = yield* signed(body)
      const other = new Request(tampered.url, {
        method: "POST",
        body: JSON.stringify(draft(2)),
        headers: tampered.headers
      })
      assert.strictEqual((yield* call(h.handler, other)).status, 401)
      assert.strictEqual((yield* h.raws).length, 0)
    })
  )

  it.live("accepts either secret while rotating, and a header listing both", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "standard-webhooks", secrets: [secretA, secretB] } })
      const old = yield* call(h.handler, yield* signed(JSON.stringify(draft(1)), { id: "a", secrets: [secretA] }))
      const fresh = yield* call(h.handler, yield* signed(JSON.stringify(draft(2)), { id: "b", secrets: [secretB] }))
      const both = yield* call(
        h.handler,
        yield* signed(JSON.stringify(draft(3)), { id: "c", secrets: [secretB, secretA] })
      )
      assert.deepStrictEqual([old.status, fresh.status, both.status], [200, 200, 200])
    })
  )

  it.live("bearer token: 401 without or with the wrong one, 2xx with it", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "bearer", token } })
      const post = (authorization?: string) =>
        new Request("http://push.test/", {
          method: "POST",
          body: JSON.stringify(draft(1)),
          headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) }
        })
      const none = yield* call(h.handler, post())
      assert.strictEqual(none.status, 401)
      assert.strictEqual(none.headers.get("www-authenticate"), 'Bearer realm="sluice"')
      assert.strictEqual((yield* call(h.handler, post("Bearer wrong-token-wrong-token"))).status, 401)
      assert.strictEqual((yield* call(h.handler, post(`Bearer ${token}`))).status, 200)
    })
  )

  it.live("Idempotency-Key makes an unsigned push safe to retry", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" } })
      const post = () =>
        new Request("http://push.test/", {
          method: "POST",
          body: JSON.stringify(draft(1)),
          headers: { "content-type": "application/json", "idempotency-key": "k-1" }
        })
      const first = yield* call(h.handler, post())
      const second = yield* call(h.handler, post())
      assert.deepStrictEqual(second.body.event_ids, first.body.event_ids)
      assert.strictEqual(second.body.redelivery, true)
      assert.strictEqual(yield* h.eventCount, 1)
    })
  )

  it.live("413 for a body over the limit, declared or streamed", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" }, limits: { maxBodyBytes: 100 } })
      const big = JSON.stringify({ ...draft(1), payload: "x".repeat(200) })
      const declared = yield* call(
        h.handler,
        new Request("http://push.test/", {
          method: "POST",
          body: big,
          headers: { "content-type": "application/json", "content-length": String(big.length) }
        })
      )
      assert.strictEqual(declared.status, 413)
      let pulled = 0
      const endless = new ReadableStream<Uint8Array>({
        pull: (controller) => {
          pulled++
          controller.enqueue(new Uint8Array(64).fill(0x20))
        }
      })
      const streamed = yield* call(
        h.handler,
        new Request("http://push.test/", {
          method: "POST",
          body: endless,
          headers: { "content-type": "application/json" },
          duplex: "half"
        } as RequestInit)
      )
      assert.strictEqual(streamed.status, 413)
      assert.strictEqual(streamed.headers.get("connection"), "close")
      assert.isBelow(pulled, 10)
      assert.strictEqual((yield* h.raws).length, 0)
    })
  )

  it.live("408 for a body that does not arrive in time", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" }, limits: { timeout: "200 millis" } })
      const stalled = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array([0x7b])) })
      const res = yield* call(
        h.handler,
        new Request("http://push.test/", {
          method: "POST",
          body: stalled,
          headers: { "content-type": "application/json" },
          duplex: "half"
        } as RequestInit)
      )
      assert.strictEqual(res.status, 408)
      assert.strictEqual((yield* h.raws).length, 0)
    })
  )

  it.live("408 for each of several slow bodies, one watcher for all, a prompt body between them stored", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" }, limits: { timeout: "200 millis" } })
      const slow = () =>
        new Request("http://push.test/", {
          method: "POST",
          body: new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(new Uint8Array([0x7b])) }),
          headers: { "content-type": "application/json" },
          duplex: "half"
        } as RequestInit)
      const prompt = new Request("http://push.test/", {
        method: "POST",
        body: JSON.stringify(draft(1)),
        headers: { "content-type": "application/json" }
      })
      const answers = yield* Effect.forEach(
        [slow(), prompt, slow()],
        (request, i) => Effect.andThen(Effect.sleep(`${i * 50} millis`), call(h.handler, request)),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(
        answers.map((a) => a.status),
        [408, 200, 408]
      )
      assert.strictEqual(yield* h.eventCount, 1)
    })
  )

  it.live("415 for another content type, 405 for another method, 404 for another path", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" }, path: "/hooks" })
      const text = yield* call(
        h.handler,
        new Request("http://push.test/hooks", { method: "POST", body: "{}", headers: { "content-type": "text/plain" } })
      )
      assert.strictEqual(text.status, 415)
      const get = yield* call(h.handler, new Request("http://push.test/hooks"))
      assert.strictEqual(get.status, 405)
      assert.strictEqual(get.headers.get("allow"), "POST")
      const elsewhere = yield* call(
        h.handler,
        new Request("http://push.test/", {
          method: "POST",
          body: "{}",
          headers: { "content-type": "application/json" }
        })
      )
      assert.strictEqual(elsewhere.status, 404)
    })
  )

  it.live("503 + Retry-After while the store fails, then 2xx once it is back", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      h.storeDown(true)
      const body = JSON.stringify(draft(1))
      const down = yield* call(h.handler, yield* signed(body))
      assert.strictEqual(down.status, 503)
      assert.strictEqual(down.headers.get("retry-after"), "5")
      h.storeDown(false)
      const up = yield* call(h.handler, yield* signed(body))
      assert.strictEqual(up.status, 200)
      assert.strictEqual(up.body.redelivery, false)
    })
  )

  it.live("500 on a defect, nothing stored; a transformer that throws is a 400", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      h.storeDies(true)
      const res = yield* call(h.handler, yield* signed(JSON.stringify(draft(1))))
      assert.strictEqual(res.status, 500)
      assert.isNull(res.headers.get("retry-after"))
      assert.strictEqual((yield* h.raws).length, 0)
      const throwing = yield* harness(webhooks, () => Effect.die(new Error("boom")))
      const crashed = yield* call(throwing.handler, yield* signed(JSON.stringify(draft(1))))
      assert.strictEqual(crashed.status, 400)
      assert.include(crashed.body.reason as string, "boom")
    })
  )

  it.live("503 + Retry-After once draining", () =>
    Effect.gen(function* () {
      const h = yield* harness({ ...webhooks, retryAfterSeconds: 7 })
      yield* h.handler.drain
      const res = yield* call(h.handler, yield* signed(JSON.stringify(draft(1))))
      assert.strictEqual(res.status, 503)
      assert.strictEqual(res.headers.get("retry-after"), "7")
      assert.strictEqual((yield* h.raws).length, 0)
    })
  )

  it.live("mapped format: each object is a payload, fields found by JSON Pointer", () =>
    Effect.gen(function* () {
      const h = yield* harness(mappedDevices({ entity_id: { pointer: "/device/id" }, occurred_at: { pointer: "/at" } }))
      const body = [
        { type: "reading.taken", device: { id: 7 }, at: "2026-01-02T03:04:05Z", celsius: 21.5 },
        { type: "reading.taken", device: {}, at: "2026-01-02T03:04:06Z" }
      ]
      const post = (items: unknown) =>
        new Request("http://push.test/", {
          method: "POST",
          body: JSON.stringify(items),
          headers: { "content-type": "application/json" }
        })
      const bad = yield* call(h.handler, post(body))
      assert.strictEqual(bad.status, 400)
      assert.include(bad.body.reason as string, "[1]: entity_id (/device/id)")
      const ok = yield* call(h.handler, post([body[0]]))
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(yield* h.eventCount, 1)
    })
  )

  it.live("sluice rederive of delivered payloads finds the delivered events (same ids), storing nothing", () =>
    Effect.gen(function* () {
      const h = yield* harness(webhooks)
      yield* call(h.handler, yield* signed(JSON.stringify([draft(1), draft(2)]), { id: "r-1" }))
      yield* call(h.handler, yield* signed(JSON.stringify(draft(3)), { id: "r-2" }))
      const source = {
        name: "inbox",
        fetch: Effect.die("not fetched"),
        transform: withDeliveryKeys(transformer({ type: "events" }))
      }
      const report = yield* Rederive.rederive(source, router).pipe(Effect.provideContext(h.context), Effect.orDie)
      assert.deepInclude(report, { payloads: 2, eventsNew: 0, duplicates: 3, unkeyed: 0 })
      assert.strictEqual(yield* h.eventCount, 3)
    })
  )

  it.live("refuses a bad config naming the field", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(harness({ auth: { type: "standard-webhooks", secrets: ["nope"] } }))
      assert.include(error.message, "whsec_")
    })
  )
})
