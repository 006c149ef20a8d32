/**
 * Message -> event, without a server: the three forms (header, draft body, mapping), identities,
 * and the failures that make a poison message.
 */
import { describe, expect, it } from "@effect/vitest"
import type { RawPayload } from "@sluice/core"
import { DateTime, Effect } from "effect"
import { identity, type MessageRequest, transform } from "../src/Transform.ts"

const raw = (body: string, request: Partial<MessageRequest> = {}): RawPayload =>
  ({
    raw_id: "00000000-0000-4000-8000-000000000000",
    source: "orders",
    content_type: "application/json",
    body,
    request: {
      stream: "ORDERS",
      consumer: "ingest",
      subject: "orders.eu.42",
      seq: 9,
      id: "seq:ORDERS/9",
      timestamp: "2026-12-01T10:00:00.000Z",
      headers: {},
      deliveries: 1,
      ...request
    },
    received_at: DateTime.makeUnsafe(0),
    trace_id: "0".repeat(31) + "1",
    content_hash: "",
    transform_error: null
  }) as unknown as RawPayload

const mapping = { eventType: "order.placed", entityType: "order" }

describe("transform", () => {
  it("identity: the Nats-Msg-Id when given, else stream and sequence", () => {
    expect(identity("ORDERS", 9, "abc")).toBe("msg-id:abc")
    expect(identity("ORDERS", 9, undefined)).toBe("seq:ORDERS/9")
    expect(identity("ORDERS", 9, "")).toBe("seq:ORDERS/9")
  })

  it.effect("mapping: the entity id from the last subject token, the time from JetStream, keyed by identity", () =>
    Effect.gen(function* () {
      const result = yield* transform(mapping)(raw('{"amount":5}'))
      expect(result.events).toEqual([
        {
          event_type: "order.placed",
          entity_type: "order",
          entity_id: "42",
          occurred_at: DateTime.makeUnsafe("2026-12-01T10:00:00.000Z"),
          payload: { amount: 5 },
          natural_key: "seq:ORDERS/9"
        }
      ])
    })
  )

  it.effect("mapping: a header wins over the subject token; another token by index", () =>
    Effect.gen(function* () {
      const byHeader = yield* transform({ ...mapping, entityIdHeader: "Order-Id" })(
        raw("{}", { headers: { "order-id": ["o-7"] } })
      )
      expect(byHeader.events[0]?.entity_id).toBe("o-7")
      const byToken = yield* transform({ ...mapping, entityIdToken: 1 })(raw("{}"))
      expect(byToken.events[0]?.entity_id).toBe("eu")
    })
  )

  it.effect("a Sluice-Event-Type message is the event its headers say, the body its payload", () =>
    Effect.gen(function* () {
      const headers = {
        "Sluice-Event-Type": ["stock.moved"],
        "Sluice-Entity-Type": ["sku"],
        "Sluice-Entity-Id": ["A"],
        "Sluice-Occurred-At": ["2026-01-02T03:04:05Z"]
      }
      const result = yield* transform(undefined)(raw('{"n":1}', { headers, id: "msg-id:x" }))
      expect(result.events[0]).toMatchObject({
        event_type: "stock.moved",
        entity_type: "sku",
        entity_id: "A",
        payload: { n: 1 },
        natural_key: "msg-id:x"
      })
      expect(DateTime.formatIso(result.events[0]!.occurred_at)).toBe("2026-01-02T03:04:05.000Z")
    })
  )

  it.effect("a JSON event draft is that event", () =>
    Effect.gen(function* () {
      const body = { event_type: "price.set", entity_type: "sku", entity_id: "B", payload: { p: 1 }, schema_version: 2 }
      const result = yield* transform(undefined)(raw(JSON.stringify(body)))
      expect(result.events[0]).toMatchObject({ ...body, natural_key: "seq:ORDERS/9" })
    })
  )

  it.effect.each([
    ["not JSON", "nope", mapping, /not JSON/],
    ["no mapping and not a draft", '{"a":1}', undefined, /no mapping/],
    [
      "a bad occurred_at",
      '{"event_type":"a","entity_type":"b","entity_id":"c","payload":1,"occurred_at":"x"}',
      undefined,
      /occurred_at/
    ],
    ["a header form without an entity", "{}", undefined, /Sluice-Entity-Type/]
  ] as const)("a poison message: %s", ([, body, map, reason]) =>
    Effect.gen(function* () {
      const headers = body === "{}" ? { "Sluice-Event-Type": ["x"] } : {}
      const error = yield* Effect.flip(transform(map)(raw(body, { headers })))
      expect(error.reason).toMatch(reason)
    })
  )
})
