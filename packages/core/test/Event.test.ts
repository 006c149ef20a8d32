import { assert, describe, expect, it } from "@effect/vitest"
import { Arbitrary, DateTime, Effect, Schema } from "effect"
import { Hex } from "effect/encoding"
import { decodeEvent, Event, encodeEvent } from "../src/Event.ts"
import { uuidV7 } from "../src/Ids.ts"

const Byte = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 255 })))
const Segment = Schema.String.pipe(Schema.check(Schema.isPattern(/^[a-z]{1,8}$/)))
// Events built from simple generated parts (ids and timestamps need shapes a generic generator
// cannot hit by chance); the payload is any JSON value.
const arbitraryEvent = Arbitrary.schema(
  Schema.Struct({
    ms: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 253402300799999 }))),
    bytes: Schema.Array(Byte).pipe(Schema.check(Schema.isMinLength(26), Schema.isMaxLength(26))),
    type: Schema.Array(Segment).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(4))),
    entity: Event.fields.entity_id,
    version: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 1000 }))),
    // Any JSON the database can store (StorableText.ts): no U+0000, no lone surrogate.
    payload: Event.fields.payload
  })
).pipe(
  Arbitrary.map(({ bytes, entity, ms, payload, type, version }) => {
    const trace = Hex.encode(Uint8Array.from(bytes.slice(10)))
    return Schema.decodeUnknownSync(Event)({
      event_id: uuidV7(ms, Uint8Array.from(bytes.slice(0, 10))),
      event_type: type.join("."),
      entity_id: entity.slice(0, 500),
      entity_type: "thing",
      trace_id: /^0+$/.test(trace) ? "1".padStart(32, "0") : trace,
      schema_version: version,
      occurred_at: new Date(ms).toISOString(),
      payload
    })
  })
)

const valid = {
  event_id: "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
  event_type: "quote.updated",
  entity_id: "AAPL",
  entity_type: "instrument",
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  schema_version: 1,
  occurred_at: "2026-01-02T15:30:00.000Z",
  payload: { price: 187.5, currency: "USD", tags: ["a"], nested: { ok: true, none: null } }
}

const failure = (input: unknown) =>
  Effect.flip(decodeEvent(input, { errors: "all" })).pipe(Effect.map((error) => error.message))

describe("Event schema", () => {
  it.effect("decodes a valid event and encodes it back unchanged", () =>
    Effect.gen(function* () {
      const event = yield* decodeEvent(valid)
      assert.isTrue(DateTime.isDateTime(event.occurred_at))
      expect(DateTime.toEpochMillis(event.occurred_at)).toBe(Date.UTC(2026, 0, 2, 15, 30))
      expect(encodeEvent(event)).toEqual(valid)
      expect(Schema.encodeSync(Event)(event)).toEqual(valid)
    })
  )

  it.effect.each([
    ["event_id", { event_id: "not-a-uuid" }],
    ["event_id", { event_id: "017F22E2-79B0-7CC3-98C4-DC0C0C07398F" }],
    ["trace_id", { trace_id: "00000000000000000000000000000000" }],
    ["trace_id", { trace_id: "4bf92f3577b34da6a3ce929d0e0e473" }],
    ["occurred_at", { occurred_at: "2026-01-02T15:30:00+02:00" }],
    ["occurred_at", { occurred_at: "2026-13-02T15:30:00Z" }],
    ["occurred_at", { occurred_at: "yesterday" }],
    ["schema_version", { schema_version: 0 }],
    ["schema_version", { schema_version: 1.5 }],
    ["event_type", { event_type: "has space" }],
    ["entity_id", { entity_id: "" }],
    ["payload", { payload: { n: Number.NaN } }],
    ["payload", { payload: { f: () => 1 } }]
  ] as const)("rejects a bad %s and names the field", ([field, patch]) =>
    Effect.gen(function* () {
      const message = yield* failure({ ...valid, ...patch })
      expect(message).toContain(`["${field}"]`)
    })
  )

  it.effect("reports every bad field at once", () =>
    Effect.gen(function* () {
      const message = yield* failure({ ...valid, event_id: "x", schema_version: -1, entity_type: "" })
      for (const field of ["event_id", "schema_version", "entity_type"]) expect(message).toContain(`["${field}"]`)
    })
  )

  it.effect("rejects missing fields", () =>
    Effect.gen(function* () {
      const { trace_id: _, ...rest } = valid
      expect(yield* failure(rest)).toContain(`["trace_id"]`)
    })
  )

  it.prop(
    "round-trips any valid event through its wire form",
    [arbitraryEvent],
    ([event]) => {
      // Compared as JSON text, the wire form (JSON has no -0, so an object comparison would differ).
      const wire = JSON.stringify(Schema.encodeSync(Event)(event))
      const back = Schema.decodeUnknownSync(Event)(JSON.parse(wire))
      expect(JSON.stringify(Schema.encodeSync(Event)(back))).toBe(wire)
      expect(DateTime.toEpochMillis(back.occurred_at)).toBe(DateTime.toEpochMillis(event.occurred_at))
    },
    { arbitrary: { runs: 200 } }
  )
})
