/**
 * HttpTransport against a local receiver: Standard Webhooks signing and the wire format (single and
 * batch), the plugin and its config (defaults, refused fields, secrets kept out of every text).
 */
import { assert, describe, it } from "@effect/vitest"
import { encodeEvent, noDeadline, Transports } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect, Layer, Random, Schema } from "effect"
import { TestClock } from "effect/testing"
import { HttpTransportPlugin } from "../src/HttpTransport.ts"
import { HttpTransportConfig } from "../src/HttpTransportConfig.ts"
import { closedPort, header, startReceiver } from "./receiver.ts"
import { errorOf, fixedNow, forPlatform, oldSecret, platforms, publishOne, secret, strangerSecret } from "./subject.ts"
import { verify } from "./verify.ts"

describe.each(platforms)("over $name", ({ platform }) => {
  const { make, transportFor } = forPlatform(platform)

  describe("HttpTransport: signing and wire format", () => {
    it.effect("signs per Standard Webhooks with the event id, the Clock's time and the event's trace id", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(fixedNow)
        const receiver = yield* startReceiver()
        const transport = yield* transportFor(receiver, { headers: { "x-api-key": "k-123" } })
        const event = makeEvent()
        const outcomes = yield* transport.publish(
          [TransportContract.envelope(event, "orders-route", "orders", 3)],
          noDeadline
        )
        assert.deepStrictEqual(outcomes, [{ _tag: "Delivered" }])
        const [request] = yield* receiver.requests
        assert.strictEqual(request!.method, "POST")
        assert.strictEqual(request!.path, "/hook")
        assert.strictEqual(header(request!, "content-type"), "application/json")
        assert.strictEqual(header(request!, "webhook-id"), event.event_id)
        assert.strictEqual(header(request!, "webhook-timestamp"), String(fixedNow / 1000))
        assert.strictEqual(verify(request!.headers, request!.body, [secret], fixedNow / 1000), undefined)
        assert.strictEqual(
          verify(request!.headers, request!.body, [strangerSecret], fixedNow / 1000),
          "no signature matches"
        )
        assert.strictEqual(request!.body, JSON.stringify(encodeEvent(event)))
        const traceparent = header(request!, "traceparent") ?? ""
        assert.match(traceparent, new RegExp(`^00-${event.trace_id}-[0-9a-f]{16}-01$`))
        assert.notStrictEqual(traceparent.split("-")[2], "0000000000000000")
        assert.deepStrictEqual(
          ["sluice-route", "sluice-topic", "sluice-attempt", "x-api-key"].map((name) => header(request!, name)),
          ["orders-route", "orders", "3", "k-123"]
        )
      })
    )

    // Span ids came from nextIntBetween(0, 0x10000), whose upper bound is inclusive: a draw at the top
    // of Random's range gave 17 hex digits, about one request in 16,000.
    it.effect("the traceparent is well-formed even when Random draws the top of its range", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver()
        const transport = yield* transportFor(receiver)
        const top = 1 - 2 ** -53
        const outcome = yield* publishOne(transport).pipe(
          Effect.provideService(Random.Random, {
            nextDoubleUnsafe: () => top,
            nextIntUnsafe: () => Number.MAX_SAFE_INTEGER
          })
        )
        assert.strictEqual(outcome._tag, "Delivered")
        const [request] = yield* receiver.requests
        assert.match(header(request!, "traceparent") ?? "", /^00-[0-9a-f]{32}-ffffffffffffffff-01$/)
      })
    )

    it.live("signs with every secret, so a receiver that knows either the old or the new one verifies", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver()
        const transport = yield* transportFor(receiver, { secrets: [secret, oldSecret] })
        assert.strictEqual((yield* publishOne(transport))._tag, "Delivered")
        const [request] = yield* receiver.requests
        const now = Number(header(request!, "webhook-timestamp"))
        const signatures = (header(request!, "webhook-signature") ?? "").split(" ")
        assert.strictEqual(signatures.length, 2)
        assert.isTrue(signatures.every((s) => /^v1,[A-Za-z0-9+/]{43}=$/.test(s)))
        assert.strictEqual(verify(request!.headers, request!.body, [oldSecret], now), undefined)
        assert.strictEqual(verify(request!.headers, request!.body, [secret], now), undefined)
        assert.strictEqual(verify(request!.headers, request!.body, [strangerSecret], now), "no signature matches")
        assert.strictEqual(
          verify(request!.headers, `${request!.body} `, [secret], now),
          "no signature matches",
          "a changed body does not verify"
        )
      })
    )

    it.live("batch mode sends one signed JSON array per route and topic, at most maxBatchSize events each", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver((request) => ({
          status: header(request, "sluice-topic") === "b" ? 503 : 200
        }))
        const transport = yield* transportFor(receiver, { mode: "batch", maxBatchSize: 2, concurrency: 1 })
        const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent(), makeEvent()]
        const topics = ["a", "a", "b", "a", "b"]
        const batch = events.map((event, i) => TransportContract.envelope(event, "r", topics[i]))
        const outcomes = yield* transport.publish(batch, noDeadline)
        assert.deepStrictEqual(
          outcomes.map((o) => o._tag),
          ["Delivered", "Delivered", "Retryable", "Delivered", "Retryable"]
        )
        const requests = yield* receiver.requests
        const ids = (body: string) => (JSON.parse(body) as Array<{ event_id: string }>).map((e) => e.event_id)
        assert.deepStrictEqual(
          requests.map((r) => ids(r.body)),
          [[0, 1], [2, 4], [3]].map((group) => group.map((i) => events[i]!.event_id))
        )
        for (const request of requests) {
          assert.match(header(request, "webhook-id") ?? "", /^batch_[0-9a-f-]{36}$/)
          assert.strictEqual(
            verify(request.headers, request.body, [secret], Number(header(request, "webhook-timestamp"))),
            undefined
          )
          assert.strictEqual(header(request, "sluice-attempt"), undefined)
        }
        assert.deepStrictEqual(JSON.parse(requests[0]!.body), [encodeEvent(events[0]!), encodeEvent(events[1]!)])
        yield* transport.publish(batch.slice(0, 2), noDeadline)
        const again = yield* receiver.requests
        assert.strictEqual(
          header(again[3]!, "webhook-id"),
          header(requests[0]!, "webhook-id"),
          "the same events get the same batch id, so a retried batch can be deduplicated"
        )
      })
    )
  })

  describe("HttpTransport: config and plugin", () => {
    const build = (config: unknown, instance = "hooks") =>
      Effect.gen(function* () {
        return yield* (yield* Transports).get(instance)
      }).pipe(
        Effect.provide(
          HttpTransportPlugin.layer(config, instance).pipe(
            Layer.provide(platform),
            Layer.provideMerge(Transports.layer)
          )
        )
      )

    it.live("the plugin registers its instance, with the documented defaults", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver()
        const transport = yield* build({ url: receiver.url, secrets: [secret] })
        assert.strictEqual(transport.name, "hooks")
        assert.strictEqual((yield* publishOne(transport))._tag, "Delivered")
        const decoded = Schema.decodeUnknownSync(HttpTransportConfig)({ url: receiver.url, secrets: [secret] })
        assert.deepStrictEqual(
          [decoded.mode, decoded.maxBatchSize, decoded.concurrency, decoded.timeoutMs, decoded.maxRetryAfterMs],
          ["single", 100, 4, 10_000, 3_600_000]
        )
        assert.deepStrictEqual(decoded.headers, {})
      })
    )

    it.effect("refuses non-http(s) URLs, bad secrets and reserved headers, naming each field", () =>
      Effect.gen(function* () {
        const error = yield* build({
          url: "ftp://files.example.com/in",
          secrets: [secret, "whsec_not base64!", "sk_live_abcdef"],
          headers: { "Webhook-Signature": "forged", "x-ok": "fine" },
          timeoutMs: 0
        }).pipe(Effect.flip)
        assert.strictEqual(error._tag, "PluginConfigError")
        const message = error.message
        assert.include(message, 'expected an http(s) URL, got a ftp: URL\n  at ["url"]')
        assert.include(message, 'expected whsec_<base64 key>\n  at ["secrets"][1]')
        assert.include(message, '["secrets"][2]')
        assert.include(message, 'reserved: the transport sets this header\n  at ["headers"]["Webhook-Signature"]')
        assert.include(message, '["timeoutMs"]')
        assert.notInclude(message, "sk_live_abcdef", "a bad secret is not echoed")
        assert.notInclude(message, "not base64!", "a bad secret is not echoed")
        const missing = yield* build({ url: "https://example.com/hook" }).pipe(Effect.flip)
        assert.include(missing.message, '["secrets"]')
      })
    )

    it.live("secrets never appear in outcomes, errors or the decoded config", () =>
      Effect.gen(function* () {
        const key = secret.slice("whsec_".length)
        const receiver = yield* startReceiver(() => ({ status: 400, body: "nope" }))
        const config = Schema.decodeUnknownSync(HttpTransportConfig)({ url: receiver.url, secrets: [secret] })
        const transport = yield* make(config)
        const outcome = yield* publishOne(transport)
        const port = yield* closedPort
        const refused = yield* publishOne(yield* transportFor({ url: `http://127.0.0.1:${port}/` }))
        const texts = [
          JSON.stringify(config),
          String(config.secrets),
          `${config.secrets[0]}`,
          errorOf(outcome),
          errorOf(refused)
        ]
        for (const text of texts) {
          assert.notInclude(text, key)
        }
        assert.include(JSON.stringify(config), "<redacted>")
      })
    )
  })
})
