/**
 * The transport against a real JetStream: the shared server on 4222 (unique streams, deleted
 * afterwards) for what it publishes, and a private server for a server that goes down.
 */
import { assert, describe, it } from "@effect/vitest"
import { encodeEvent, noDeadline, type PublishOutcome } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Clock, Duration, Effect, Schema } from "effect"
import { headerNames } from "../src/Headers.ts"
import { make } from "../src/NatsTransport.ts"
import { NatsTransportConfig, type NatsTransportConfigInput } from "../src/NatsTransportConfig.ts"
import { fakeStream, natsUrl, testConnection, testStreams, uniqueName } from "./nats.ts"
import { privateServer } from "./privateServer.ts"

const { envelope } = TransportContract

const transportWith = (options: NatsTransportConfigInput) =>
  make(Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [natsUrl], ...options }), "nats")

const tags = (outcomes: ReadonlyArray<PublishOutcome>) => outcomes.map((o) => o._tag)
const errorOf = (outcome: PublishOutcome | undefined) =>
  outcome === undefined || outcome._tag === "Delivered" ? "" : outcome.error

describe("publishing to JetStream", () => {
  it.live("each event lands on its template's subject with the event as data and its headers", () =>
    Effect.gen(function* () {
      const prefix = uniqueName("it")
      const nc = yield* testConnection()
      const streams = yield* testStreams(nc)
      const stream = uniqueName("S")
      yield* streams.stream(stream, [`${prefix}.>`])
      const transport = yield* transportWith({ subject: `${prefix}.{topic}.{entity_type}.{event_type}` })
      const event = makeEvent({ entity_type: "order", event_type: "order.placed", entity_id: "o-1" })
      const outcomes = yield* transport.publish([envelope(event, "r1", "eu.orders", 2)], noDeadline)
      assert.deepStrictEqual(tags(outcomes), ["Delivered"])
      const stored = yield* Effect.promise(() => streams.jsm.streams.getMessage(stream, { seq: 1 }))
      assert.strictEqual(stored?.subject, `${prefix}.eu.orders.order.order.placed`)
      assert.deepStrictEqual(JSON.parse(new TextDecoder().decode(stored?.data)), encodeEvent(event))
      const header = (name: string) => stored?.header.get(name)
      assert.strictEqual(header(headerNames.msgId), event.event_id)
      assert.strictEqual(header(headerNames.eventId), event.event_id)
      assert.match(header(headerNames.traceparent) ?? "", new RegExp(`^00-${event.trace_id}-[0-9a-f]{16}-01$`))
      assert.strictEqual(header(headerNames.eventType), "order.placed")
      assert.strictEqual(header(headerNames.schemaVersion), "1")
      assert.strictEqual(header(headerNames.entityType), "order")
      assert.strictEqual(header(headerNames.entityId), "o-1")
      assert.strictEqual(header(headerNames.route), "r1")
      assert.strictEqual(header(headerNames.topic), "eu.orders")
      assert.strictEqual(header(headerNames.attempt), "2")
    })
  )

  it.live("the same envelope published twice is one message: the second is Delivered as a duplicate", () =>
    Effect.gen(function* () {
      const prefix = uniqueName("it")
      const nc = yield* testConnection()
      const streams = yield* testStreams(nc)
      const stream = uniqueName("S")
      yield* streams.stream(stream, [`${prefix}.>`])
      const transport = yield* transportWith({ subject: `${prefix}.{topic}` })
      const once = envelope(makeEvent(), "r1", "orders")
      const again = { ...once, attempt: 2 }
      const first = yield* transport.publish([once, envelope(makeEvent(), "r1", "orders")], noDeadline)
      const second = yield* transport.publish([again], noDeadline)
      assert.deepStrictEqual([...tags(first), ...tags(second)], ["Delivered", "Delivered", "Delivered"])
      const info = yield* Effect.promise(() => streams.jsm.streams.info(stream))
      assert.strictEqual(info.state.messages, 2)
    })
  )

  it.live("two routes, one stream: msgId route-event keeps each route's copy, each still deduplicated", () =>
    Effect.gen(function* () {
      const prefix = uniqueName("it")
      const nc = yield* testConnection()
      const streams = yield* testStreams(nc)
      const stream = uniqueName("S")
      yield* streams.stream(stream, [`${prefix}.>`])
      const event = makeEvent()
      const copies = [envelope(event, "orders", "orders"), envelope(event, "audit", "audit")]
      // The default key is the event id: the stream keeps the first route's copy only.
      const byEvent = yield* transportWith({ subject: `${prefix}.event.{topic}` })
      assert.deepStrictEqual(tags(yield* byEvent.publish(copies, noDeadline)), ["Delivered", "Delivered"])
      const byRoute = yield* transportWith({ subject: `${prefix}.route.{topic}`, msgId: "route-event" })
      assert.deepStrictEqual(tags(yield* byRoute.publish(copies, noDeadline)), ["Delivered", "Delivered"])
      const resend = { ...copies[1]!, attempt: 2 }
      assert.deepStrictEqual(tags(yield* byRoute.publish([resend], noDeadline)), ["Delivered"])
      const info = yield* Effect.promise(() => streams.jsm.streams.info(stream))
      assert.strictEqual(info.state.messages, 3, "one copy by event id, one per route by route-event; no resend")
      const stored = yield* Effect.forEach([1, 2, 3], (seq) =>
        Effect.promise(() => streams.jsm.streams.getMessage(stream, { seq }))
      )
      assert.deepStrictEqual(
        stored.map((m) => [m?.subject, m?.header.get(headerNames.msgId), m?.header.get(headerNames.eventId)]),
        [
          [`${prefix}.event.orders`, event.event_id, event.event_id],
          [`${prefix}.route.orders`, `orders:${event.event_id}`, event.event_id],
          [`${prefix}.route.audit`, `audit:${event.event_id}`, event.event_id]
        ]
      )
    })
  )

  it.live("a subject no stream captures is Permanent, naming the subject; a bad value too", () =>
    Effect.gen(function* () {
      const prefix = uniqueName("it")
      const transport = yield* transportWith({ subject: `${prefix}.{topic}` })
      const outcomes = yield* transport.publish(
        [envelope(makeEvent(), "r1", "orders"), envelope(makeEvent(), "r1", "two words")],
        noDeadline
      )
      assert.deepStrictEqual(tags(outcomes), ["Permanent", "Permanent"])
      assert.include(errorOf(outcomes[0]), `no JetStream stream captures the subject "${prefix}.orders"`)
      assert.include(errorOf(outcomes[1]), `invalid subject "${prefix}.two words"`)
      assert.include(errorOf(outcomes[1]), "whitespace")
    })
  )

  it.live("ensureStream creates the stream at start, with its window, and updates it at the next start", () =>
    Effect.gen(function* () {
      const prefix = uniqueName("it")
      const nc = yield* testConnection()
      const streams = yield* testStreams(nc)
      const name = uniqueName("S")
      yield* streams.track(name)
      const ensure = { name, storage: "memory", duplicateWindow: "3 minutes" } as const
      const transport = yield* Effect.scoped(
        Effect.gen(function* () {
          const t = yield* transportWith({ subject: `${prefix}.{topic}.{event_type}`, ensureStream: ensure })
          assert.deepStrictEqual(tags(yield* t.publish([envelope(makeEvent(), "r1", "orders")], noDeadline)), [
            "Delivered"
          ])
          return t
        })
      )
      assert.strictEqual(Duration.toMillis(transport.duplicateWindow ?? Duration.zero), 180_000)
      const created = yield* Effect.promise(() => streams.jsm.streams.info(name))
      assert.deepStrictEqual(created.config.subjects, [`${prefix}.>`])
      assert.strictEqual(created.config.duplicate_window, 180_000 * 1_000_000)
      assert.strictEqual(created.state.messages, 1)
      const updated = yield* transportWith({
        subject: `${prefix}.{topic}`,
        ensureStream: { ...ensure, duplicateWindow: "10 minutes", subjects: [`${prefix}.>`, `${prefix}x.>`] }
      })
      assert.strictEqual(Duration.toMillis(updated.duplicateWindow ?? Duration.zero), 600_000)
      const after = yield* Effect.promise(() => streams.jsm.streams.info(name))
      assert.deepStrictEqual(after.config.subjects, [`${prefix}.>`, `${prefix}x.>`])
      assert.strictEqual(after.state.messages, 1, "updating keeps the messages")
    })
  )

  it.live("a deadline that has passed sends nothing; one that cuts the wait gives Retryable", () =>
    Effect.gen(function* () {
      const prefix = uniqueName("it")
      const nc = yield* testConnection()
      const streams = yield* testStreams(nc)
      const stream = uniqueName("S")
      yield* streams.stream(stream, [`${prefix}.>`])
      const transport = yield* transportWith({ subject: `${prefix}.{topic}` })
      const now = yield* Clock.currentTimeMillis
      const passed = yield* transport.publish([envelope(makeEvent(), "r1", "orders")], {
        deadline: now - 1,
        sending: () => {}
      })
      assert.deepStrictEqual(tags(passed), ["NotSent"])
      const info = yield* Effect.promise(() => streams.jsm.streams.info(stream))
      assert.strictEqual(info.state.messages, 0)
    })
  )
})

describe("no responders", () => {
  it.live("is Retryable while a stream captures the subject (its leader is away), and when JetStream is silent", () =>
    Effect.gen(function* () {
      // A server without JetStream, where a fake JetStream API says which stream captures a subject.
      const server = yield* privateServer([], { jetstream: false })
      const nc = yield* testConnection(server.url)
      const prefix = uniqueName("nr")
      yield* fakeStream(nc, "$JS.API.STREAM.NAMES", (msg) => {
        const { subject } = msg.json<{ subject: string }>()
        const streams = subject.startsWith(`${prefix}.captured.`) ? ["ORDERS"] : []
        msg.respond(JSON.stringify({ total: streams.length, offset: 0, limit: 1024, streams }))
      })
      const transport = yield* make(
        Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [server.url], subject: `${prefix}.{topic}` }),
        "nats"
      )
      const outcomes = yield* transport.publish(
        [envelope(makeEvent(), "r1", "captured.a"), envelope(makeEvent(), "r1", "missing")],
        noDeadline
      )
      assert.deepStrictEqual(tags(outcomes), ["Retryable", "Permanent"])
      assert.include(
        errorOf(outcomes[0]),
        `no responders publishing to "${prefix}.captured.a": stream ORDERS unavailable`
      )
      assert.include(errorOf(outcomes[1]), `no JetStream stream captures the subject "${prefix}.missing"`)
    })
  )

  it.live("is Retryable when JetStream does not answer which stream captures the subject", () =>
    Effect.gen(function* () {
      const server = yield* privateServer([], { jetstream: false })
      const transport = yield* make(
        Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [server.url], subject: "x.{topic}" }),
        "nats"
      )
      const outcomes = yield* transport.publish([envelope(makeEvent(), "r1", "orders")], noDeadline)
      assert.deepStrictEqual(tags(outcomes), ["Retryable"])
      assert.include(errorOf(outcomes[0]), 'no responders publishing to "x.orders" (JetStream unavailable)')
    })
  )
})

describe("a server that goes down", () => {
  it.live(
    "publishes are Retryable while it is down, and Delivered once it is back (the client reconnects)",
    () =>
      Effect.gen(function* () {
        const server = yield* privateServer()
        const prefix = uniqueName("it")
        const name = uniqueName("S")
        const transport = yield* make(
          Schema.decodeUnknownSync(NatsTransportConfig)({
            servers: [server.url],
            subject: `${prefix}.{topic}`,
            publishTimeout: "1 second",
            ensureStream: { name, storage: "file" }
          }),
          "nats"
        )
        assert.deepStrictEqual(tags(yield* transport.publish([envelope(makeEvent(), "r1", "a")], noDeadline)), [
          "Delivered"
        ])
        yield* server.stop
        const down = yield* transport.publish(
          [envelope(makeEvent(), "r1", "a"), envelope(makeEvent(), "r1", "b")],
          noDeadline
        )
        assert.deepStrictEqual(tags(down), ["Retryable", "Retryable"])
        yield* server.start
        // Polled with a deadline: the client reconnects on its own schedule.
        const deadline = (yield* Clock.currentTimeMillis) + 20_000
        let last: ReadonlyArray<PublishOutcome> = []
        while ((yield* Clock.currentTimeMillis) < deadline) {
          last = yield* transport.publish([envelope(makeEvent(), "r1", "a")], noDeadline)
          if (last[0]?._tag === "Delivered") break
        }
        assert.deepStrictEqual(tags(last), ["Delivered"], `after the restart: ${errorOf(last[0])}`)
      }),
    60_000
  )
})
