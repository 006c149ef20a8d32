/**
 * A payload the Event schema refuses as not JSON is named by the field's path (the schema names only
 * the payload); what the schema accepts stays accepted (deep nesting, another realm's objects).
 */
import { assert, describe, it } from "@effect/vitest"
import type { Event } from "../src/Event.ts"
import { eventProblem } from "../src/EventProblem.ts"
import { makeEvent } from "../src/testing/fixtures.ts"

const withPayload = (payload: unknown): Event => makeEvent({ payload: payload as Event["payload"] })

class Money {
  readonly amount = 1
}
const cyclic: Record<string, unknown> = { list: [] }
;(cyclic.list as Array<unknown>).push(cyclic)

describe("a payload that is not JSON", () => {
  it.each([
    ["NaN", { quote: { price: Number.NaN } }, '["payload"]["quote"]["price"]', "NaN"],
    ["Infinity", [1, Number.POSITIVE_INFINITY], '["payload"][1]', "Infinity"],
    ["undefined", { a: { b: undefined } }, '["payload"]["a"]["b"]', "undefined"],
    ["a hole", { list: Object.assign(new Array(3), { 0: 1, 2: 3 }) }, '["payload"]["list"][1]', "undefined"],
    ["a function", { f: () => 1 }, '["payload"]["f"]', "a function"],
    ["a Date", { at: new Date(0) }, '["payload"]["at"]', "a Date"],
    ["a class instance", { money: new Money() }, '["payload"]["money"]', "a Money"],
    ["an Int8Array", { bytes: new Int8Array(2) }, '["payload"]["bytes"]', "an Int8Array"],
    ["a cycle", cyclic, '["payload"]["list"][0]', "a cycle"]
  ] as const)("%s is named by its path", (_, payload, path, got) => {
    const problem = eventProblem(withPayload(payload))
    assert.include(problem, `Expected a JSON value, got ${got}`)
    assert.isTrue(problem?.endsWith(`at ${path}`), problem)
  })

  it("what the schema accepts stays accepted: 200 levels deep, another realm's plain objects", () => {
    let deep: unknown = { leaf: 1 }
    for (let i = 0; i < 200; i++) deep = { next: [deep] }
    assert.isUndefined(eventProblem(withPayload(deep)))
    // Another realm's plain object: its prototype is that realm's Object.prototype.
    const foreign = Object.assign(Object.create(Object.create(null)), { a: [1, { b: null }] })
    assert.isUndefined(eventProblem(withPayload(foreign)))
    assert.isUndefined(eventProblem(withPayload(Object.assign(Object.create(null), { a: 1 }))))
  })

  it("another field's problem is not replaced by the payload's", () => {
    const problem = eventProblem({ ...withPayload({ n: Number.NaN }), entity_id: "" })
    assert.include(problem, "entity_id")
  })
})
