import { assert, describe, it } from "@effect/vitest"
import {
  encodeEvent,
  MemoryEventStore,
  noDeadline,
  OutboxQueue,
  type PublishOutcome,
  Relay,
  Transports
} from "@sluice/core"
import { makeBatch, makeEvent, TransportContract } from "@sluice/core/testing"
import { Duration, Effect, Fiber, Layer, Random, Schema } from "effect"
import { TestClock } from "effect/testing"
import { HttpTransportPlugin, make as makeTransport } from "../src/HttpTransport.ts"
import { HttpTransportConfig } from "../src/HttpTransportConfig.ts"
import * as NodeHttpTransport from "../src/node/index.ts"
import { closedPort, header, type Receiver, startReceiver } from "./receiver.ts"
import { verify } from "./verify.ts"

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const oldSecret = "whsec_c2VjcmV0LWtleS1udW1iZXItb25lLTMyYnl0ZXMh"
const strangerSecret = "whsec_bm90LXRoZS1yaWdodC1rZXktYXQtYWxs"

const publishOne = (transport: { readonly publish: TransportContract.TransportSubject["transport"]["publish"] }) =>
  Effect.map(transport.publish([TransportContract.envelope(makeEvent())], noDeadline), (outcomes) => outcomes[0]!)

const errorOf = (outcome: PublishOutcome): string => (outcome._tag === "Delivered" ? "" : outcome.error)
const retryAfterMs = (outcome: PublishOutcome): number | undefined =>
  outcome._tag === "Retryable" && outcome.retryAfter !== undefined ? Duration.toMillis(outcome.retryAfter) : undefined

// 2026-01-02T03:04:05Z, a whole second so HTTP dates are exact.
const fixedNow = Date.UTC(2026, 0, 2, 3, 4, 5)

/** Every test runs with the portable defaults and with the Node sender and crypto. */
const platforms: ReadonlyArray<{
  readonly name: string
  readonly platform: Layer.Layer<never>
}> = [
  { name: "fetch and Web Crypto", platform: Layer.empty },
  { name: "node:http and node:crypto", platform: NodeHttpTransport.layer() }
]

describe.each(platforms)("over $name", ({ platform }) => {
  const make = (config: HttpTransportConfig, name?: string) =>
    makeTransport(config, name).pipe(Effect.provide(platform))
  const transportFor = (receiver: Pick<Receiver, "url">, overrides: Record<string, unknown> = {}) =>
    make(Schema.decodeUnknownSync(HttpTransportConfig)({ url: receiver.url, secrets: [secret], ...overrides }), "hook")

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

  describe("HttpTransport: outcomes", () => {
    it.live("5xx is Retryable with the status and a short, single-line body excerpt", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver(() => ({ status: 500, body: `database\n  down ${"x".repeat(5_000)}` }))
        const outcome = yield* publishOne(yield* transportFor(receiver))
        assert.strictEqual(outcome._tag, "Retryable")
        assert.isTrue(errorOf(outcome).startsWith("HTTP 500: database down xxx"))
        assert.isTrue(errorOf(outcome).length < 230, "the excerpt is short")
        assert.strictEqual(retryAfterMs(outcome), undefined)
      })
    )

    it.live("408 and 429 are Retryable; Retry-After in seconds is honoured and clamped to maxRetryAfterMs", () =>
      Effect.gen(function* () {
        const replies = [
          { status: 408 },
          { status: 429, headers: { "retry-after": "20" } },
          { status: 429, headers: { "retry-after": "7200" } }
        ]
        const receiver = yield* startReceiver(() => replies.shift() ?? { status: 204 })
        const transport = yield* transportFor(receiver, { maxRetryAfterMs: 60_000 })
        const outcomes = [yield* publishOne(transport), yield* publishOne(transport), yield* publishOne(transport)]
        assert.deepStrictEqual(
          outcomes.map((o) => o._tag),
          ["Retryable", "Retryable", "Retryable"]
        )
        assert.deepStrictEqual(outcomes.map(retryAfterMs), [undefined, 20_000, 60_000])
        assert.strictEqual(errorOf(outcomes[1]!), "HTTP 429")
      })
    )

    it.effect("a Retry-After HTTP date is a wait measured from the Clock", () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(fixedNow)
        const at = new Date(fixedNow + 90_000).toUTCString()
        const receiver = yield* startReceiver(() => ({ status: 503, headers: { "retry-after": at } }))
        const outcome = yield* publishOne(yield* transportFor(receiver))
        assert.strictEqual(outcome._tag, "Retryable")
        assert.strictEqual(retryAfterMs(outcome), 90_000)
      })
    )

    it.live("a slow receiver times out as Retryable and the request is abandoned", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver(
          () => new Promise((resolve) => setTimeout(() => resolve({ status: 204 }), 3_000))
        )
        const outcome = yield* publishOne(yield* transportFor(receiver, { timeoutMs: 100 }))
        assert.strictEqual(outcome._tag, "Retryable")
        assert.strictEqual(errorOf(outcome), "no answer within 100 ms")
        // Polled with a deadline that only costs time when the request is not abandoned.
        const aborted = yield* Effect.gen(function* () {
          while ((yield* receiver.aborted) === 0) yield* Effect.sleep("10 millis")
          return yield* receiver.aborted
        }).pipe(Effect.timeout("15 seconds"))
        assert.strictEqual(aborted, 1, "the receiver saw the connection go away")
      })
    )

    it.live(
      "past the relay's publish deadline: what the receiver accepted is recorded as delivered, the rest retried",
      () =>
        Effect.gen(function* () {
          // 12 events one at a time to a receiver taking 450 ms each, against a 3 s publish timeout
          // (deadline 2.7 s: 300 ms before the relay's own timeout, room for a slow CI machine):
          // about 6 get through. Without the deadline the relay's timeout would count all 12 as
          // retries, and the accepted ones would be sent again.
          const receiver = yield* startReceiver(
            () => new Promise((resolve) => setTimeout(() => resolve({ status: 204 }), 450))
          )
          const transport = yield* transportFor(receiver, { mode: "single", concurrency: 1 })
          const stores = yield* MemoryEventStore.makeStores
          yield* stores.eventStore.append(
            yield* makeBatch(
              Array.from({ length: 12 }, () => makeEvent()),
              ["r"]
            )
          )
          const report = yield* Relay.runOnce({
            routes: [{ name: "r", transport: "hook", topic: "t", match: ["**"] }],
            publishTimeout: "3 seconds"
          }).pipe(
            Effect.provideService(OutboxQueue, stores.outboxQueue),
            Effect.provideService(Transports, Transports.makeOf([transport]))
          )
          assert.isAtLeast(report.delivered, 1, "some were accepted in time")
          assert.isAtLeast(report.released, 1, "not all could start before the deadline")
          assert.isAtMost(report.retried, 1, "at most the request in flight at the deadline is retried")
          assert.strictEqual(report.delivered + report.retried + report.released, 12)
          const rows = yield* stores.outboxAdmin.listOutbox({})
          const received = (yield* receiver.requests).map((r) => header(r, "webhook-id"))
          const deliveredIds = rows.filter((r) => r.status === "delivered").map((r) => r.event_id as string)
          assert.includeMembers(received, deliveredIds, "only what the receiver got is delivered")
          // A request cut at the deadline may or may not have reached the receiver; a released one never did.
          assert.isAtLeast(received.length, report.delivered)
          assert.isAtMost(received.length, report.delivered + report.retried, "the released were never sent")
          const pending = rows.filter((r) => r.status === "pending")
          const cut = pending.filter((r) => r.attempts === 1)
          for (const row of cut) assert.include(row.last_error ?? "", "deadline")
          assert.strictEqual(cut.length, report.retried)
          for (const row of pending.filter((r) => r.attempts !== 1)) {
            assert.deepStrictEqual(
              [row.attempts, row.lease, row.last_error],
              [0, null, null],
              "released, not attempted"
            )
          }
        })
    )

    it.live("a relay interrupted mid-publish (shutdown) counts an attempt only for the requests that went out", () =>
      Effect.gen(function* () {
        // A receiver that never answers, one request at a time: of 3 rows only the first is sent.
        const receiver = yield* startReceiver(() => new Promise(() => {}))
        const transport = yield* transportFor(receiver, { mode: "single", concurrency: 1 })
        const stores = yield* MemoryEventStore.makeStores
        yield* stores.eventStore.append(
          yield* makeBatch(
            Array.from({ length: 3 }, () => makeEvent()),
            ["r"]
          )
        )
        const relay = yield* Effect.forkChild(
          Relay.runOnce({ routes: [{ name: "r", transport: "hook", topic: "t", match: ["**"] }] }).pipe(
            Effect.provideService(OutboxQueue, stores.outboxQueue),
            Effect.provideService(Transports, Transports.makeOf([transport]))
          )
        )
        yield* Effect.gen(function* () {
          while ((yield* receiver.requests).length === 0) yield* Effect.sleep("10 millis")
        }).pipe(Effect.timeout("10 seconds"))
        yield* Fiber.interrupt(relay)
        const sent = (yield* receiver.requests).map((r) => header(r, "webhook-id"))
        assert.strictEqual(sent.length, 1)
        const rows = yield* stores.outboxAdmin.listOutbox({})
        assert.deepStrictEqual(
          rows.map((r) => [r.event_id === sent[0] ? "sent" : "not sent", r.status, r.attempts, r.lease]),
          [
            ["sent", "pending", 1, null],
            ["not sent", "pending", 0, null],
            ["not sent", "pending", 0, null]
          ]
        )
      })
    )

    it.live("a flaky receiver: the failed attempt and its retry carry the same webhook-id, then it is delivered", () =>
      Effect.gen(function* () {
        let calls = 0
        const receiver = yield* startReceiver(() =>
          ++calls === 1 ? { status: 502, body: "bad gateway" } : { status: 200 }
        )
        const transport = yield* transportFor(receiver)
        const envelope = TransportContract.envelope(makeEvent())
        const first = yield* transport.publish([envelope], noDeadline)
        const second = yield* transport.publish([{ ...envelope, attempt: 2 }], noDeadline)
        assert.deepStrictEqual([first[0]!._tag, second[0]!._tag], ["Retryable", "Delivered"])
        assert.strictEqual(errorOf(first[0]!), "HTTP 502: bad gateway")
        const requests = yield* receiver.requests
        assert.deepStrictEqual(
          requests.map((r) => header(r, "webhook-id")),
          [envelope.event.event_id, envelope.event.event_id]
        )
        assert.deepStrictEqual(
          requests.map((r) => header(r, "sluice-attempt")),
          ["1", "2"]
        )
      })
    )

    it.live("a refused connection is Retryable and names the cause and the origin only", () =>
      Effect.gen(function* () {
        const port = yield* closedPort
        const outcome = yield* publishOne(yield* transportFor({ url: `http://127.0.0.1:${port}/hook?token=t0k3n` }))
        assert.strictEqual(outcome._tag, "Retryable")
        assert.include(errorOf(outcome), `request to http://127.0.0.1:${port} failed: `)
        assert.match(errorOf(outcome), /ECONNREFUSED|Connection refused/, "Node and Deno name the cause differently")
        assert.notInclude(errorOf(outcome), "t0k3n")
      })
    )

    it.live("a header value the client refuses (a line break) is Retryable, never a defect", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver()
        const outcome = yield* publishOne(yield* transportFor(receiver, { headers: { "x-api-key": "a\r\nb" } }))
        assert.strictEqual(outcome._tag, "Retryable")
        assert.include(errorOf(outcome), `request to http://127.0.0.1:${receiver.port} failed`)
        assert.strictEqual((yield* receiver.requests).length, 0)
      })
    )

    it.live("a dropped connection is Retryable", () =>
      Effect.gen(function* () {
        const receiver = yield* startReceiver(() => ({ drop: true }))
        const outcome = yield* publishOne(yield* transportFor(receiver))
        assert.strictEqual(outcome._tag, "Retryable")
        assert.include(errorOf(outcome), `request to http://127.0.0.1:${receiver.port} failed`)
      })
    )

    it.live("a 3xx is Permanent with its Location, and the redirect is not followed", () =>
      Effect.gen(function* () {
        const elsewhere = yield* startReceiver()
        const replies = [307, 301].map((status) => ({ status, headers: { location: elsewhere.url } }))
        const receiver = yield* startReceiver(() => replies.shift() ?? { status: 204 })
        const transport = yield* transportFor(receiver)
        const outcomes = [yield* publishOne(transport), yield* publishOne(transport)]
        assert.deepStrictEqual(
          outcomes.map((o) => o._tag),
          ["Permanent", "Permanent"]
        )
        assert.strictEqual(
          errorOf(outcomes[0]!),
          `HTTP 307 redirect to ${elsewhere.url} not followed: a signed event is only sent to the configured URL`
        )
        assert.include(errorOf(outcomes[1]!), "HTTP 301 redirect")
        assert.strictEqual((yield* elsewhere.requests).length, 0, "nothing reached the redirect target")
      })
    )

    it.live("other 4xx are Permanent with the status and a body excerpt", () =>
      Effect.gen(function* () {
        const replies = [
          { status: 422, body: '{"error":"payload.price must be positive"}' },
          { status: 404 },
          { status: 401, body: "bad signature" }
        ]
        const receiver = yield* startReceiver(() => replies.shift() ?? { status: 204 })
        const transport = yield* transportFor(receiver)
        const outcomes = [yield* publishOne(transport), yield* publishOne(transport), yield* publishOne(transport)]
        assert.deepStrictEqual(outcomes, [
          { _tag: "Permanent", error: 'HTTP 422: {"error":"payload.price must be positive"}' },
          { _tag: "Permanent", error: "HTTP 404" },
          { _tag: "Permanent", error: "HTTP 401: bad signature" }
        ])
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
