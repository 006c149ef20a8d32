/**
 * EventRules.isCertainlyEvent, the direct check CommandHandler runs instead of the Event schema:
 * it may only say "valid" where the schema accepts the event and decodes it to an equal value, and
 * it must say so for ordinary events (or the fast path is never taken).
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { Arbitrary, DateTime, Exit, Schema } from "effect"
import { Hex } from "effect/encoding"
import { Event } from "../src/Event.ts"
import { uuidV7 } from "../src/Ids.ts"
import { type EventCandidate, isCertainlyEvent } from "../src/internal/EventRules.ts"

const validate = Schema.decodeUnknownExit(Event)
const encoded = (candidate: EventCandidate) => ({
  ...candidate,
  occurred_at: DateTime.formatIso(candidate.occurred_at)
})

const valid: EventCandidate = {
  event_id: "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
  event_type: "quote.updated",
  entity_id: "AAPL",
  entity_type: "instrument",
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  schema_version: 1,
  occurred_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 15, 30)),
  payload: { price: 187.5, tags: ["a", null, true], nested: { empty: {}, list: [] } }
}

/** The schema's verdict agrees: accepted, and decoded to the candidate itself. */
const assertSchemaAgrees = (candidate: EventCandidate) => {
  const exit = validate(encoded(candidate))
  assert.isTrue(Exit.isSuccess(exit))
  if (Exit.isSuccess(exit)) expect(exit.value).toEqual(candidate)
}

const Byte = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 255 })))
const Segment = Schema.String.pipe(Schema.check(Schema.isPattern(/^[a-z]{1,8}$/)))
// Ids and timestamps from generated parts (a generic generator cannot hit their shapes by
// chance); names and payloads from any string and any JSON, storable or not.
const arbitraryCandidate = Arbitrary.schema(
  Schema.Struct({
    ms: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: -62_167_219_200_000, maximum: 253_402_300_799_999 }))),
    bytes: Schema.Array(Byte).pipe(Schema.check(Schema.isMinLength(26), Schema.isMaxLength(26))),
    type: Schema.Array(Segment).pipe(Schema.check(Schema.isMinLength(1), Schema.isMaxLength(4))),
    entity: Schema.String,
    version: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: -1, maximum: 1000 }))),
    payload: Schema.Json
  })
).pipe(
  Arbitrary.map(({ bytes, entity, ms, payload, type, version }): EventCandidate => {
    const trace = Hex.encode(Uint8Array.from(bytes.slice(10)))
    return {
      event_id: uuidV7(ms, Uint8Array.from(bytes.slice(0, 10))),
      event_type: type.join("."),
      entity_id: entity,
      entity_type: "thing",
      trace_id: /^0+$/.test(trace) ? "1".padStart(32, "0") : trace,
      schema_version: version,
      occurred_at: DateTime.makeUnsafe(ms),
      payload
    }
  })
)

class Money {
  readonly amount = 1
}
const cyclic: Record<string, unknown> = {}
cyclic.self = cyclic
let deep: unknown = 1
for (let i = 0; i < 100; i++) deep = [deep]

describe("EventRules.isCertainlyEvent", () => {
  it("says valid for an ordinary event, as the schema does", () => {
    assert.isTrue(isCertainlyEvent(valid))
    assertSchemaAgrees(valid)
  })

  it.each([
    ["a bad event_id", { event_id: "017F22E2-79B0-7CC3-98C4-DC0C0C07398F" }],
    ["an all-zero trace_id", { trace_id: "0".repeat(32) }],
    ["a bad event_type", { event_type: "has space" }],
    ["a long event_type", { event_type: "a".repeat(201) }],
    ["an empty entity_id", { entity_id: "" }],
    ["a long entity_type", { entity_type: "x".repeat(501) }],
    ["U+0000 in entity_id", { entity_id: "a\u0000b" }],
    ["a lone surrogate in a payload string", { payload: { name: "\ud800" } }],
    ["U+0000 in a payload key", { payload: { "a\u0000": 1 } }],
    ["NaN in the payload", { payload: { n: Number.NaN } }],
    ["a function in the payload", { payload: { f: () => 1 } }],
    ["undefined in the payload", { payload: { u: undefined } }],
    ["a hole in a payload array", { payload: Object.assign(new Array(3), { 0: 1, 2: 3 }) }],
    ["a class instance in the payload", { payload: new Money() }],
    ["a cyclic payload", { payload: cyclic }],
    ["a schema_version of 0", { schema_version: 0 }],
    ["a fractional schema_version", { schema_version: 1.5 }],
    ["a year past 9999", { occurred_at: DateTime.makeUnsafe(253_402_300_800_000) }],
    ["a year before 0", { occurred_at: DateTime.makeUnsafe(-62_167_219_200_001) }]
  ] as const)("is not sure of %s (and the schema refuses it)", (_, patch) => {
    const candidate = { ...valid, ...patch } as EventCandidate
    assert.isFalse(isCertainlyEvent(candidate))
    assert.isTrue(Exit.isFailure(validate(encoded(candidate))))
  })

  it("leaves a payload nested deeper than it looks to the schema, which accepts it", () => {
    const candidate = { ...valid, payload: deep }
    assert.isFalse(isCertainlyEvent(candidate))
    assert.isTrue(Exit.isSuccess(validate(encoded(candidate))))
  })

  it("says valid at both ends of the 4-digit years", () => {
    for (const millis of [-62_167_219_200_000, 253_402_300_799_999]) {
      const candidate = { ...valid, occurred_at: DateTime.makeUnsafe(millis) }
      assert.isTrue(isCertainlyEvent(candidate))
      assertSchemaAgrees(candidate)
    }
  })

  it.prop(
    "agrees with the schema on generated events, whose names and payloads may not be storable",
    [arbitraryCandidate],
    ([candidate]) => {
      const accepted = Exit.isSuccess(validate(encoded(candidate)))
      expect(isCertainlyEvent(candidate)).toBe(accepted)
      if (accepted) assertSchemaAgrees(candidate)
    },
    { arbitrary: { runs: 500 } }
  )
})
