import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Schema } from "effect"
import { FormatConfig } from "../src/PushConfig.ts"
import { call, draft, harness, mappedDevices } from "./harness.ts"

const post = (items: unknown) =>
  new Request("http://push.test/", {
    method: "POST",
    body: JSON.stringify(items),
    headers: { "content-type": "application/json" }
  })

describe("GenericJson", () => {
  it.live("a draft with several bad fields: the 400 names each, at its index and path", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" } })
      // entity_id fails the draft's shape; event_type only the canonical event's rules.
      const res = yield* call(
        h.handler,
        post([draft(1), { ...draft(2), event_type: "not a type!", entity_id: 42, schema_version: 0 }])
      )
      assert.strictEqual(res.status, 400)
      assert.strictEqual(res.body.error, "invalid_events")
      const issues = res.body.issues as Array<string>
      assert.strictEqual(issues.length, 1)
      const [issue] = issues
      assert.match(issue!, /^\[1\]: /)
      for (const field of ["event_type", "entity_id", "schema_version"]) assert.include(issue, `["${field}"]`)
      assert.include(issue, "a dotted event type")
      assert.strictEqual(yield* h.eventCount, 0)
    })
  )

  it.live("several bad drafts: one issue each, naming its index", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" } })
      const res = yield* call(
        h.handler,
        post([{ ...draft(1), payload: undefined }, draft(2), { ...draft(3), entity_type: "", natural_key: "" }])
      )
      assert.strictEqual(res.status, 400)
      const issues = res.body.issues as Array<string>
      assert.strictEqual(issues.length, 2)
      assert.match(issues[0]!, /^\[0\]: .*\["payload"\]/)
      assert.match(issues[1]!, /^\[2\]: .*\["entity_type"\].*\["natural_key"\]/)
    })
  )

  it.live("mapped format: a missing field and a bad found one are both named", () =>
    Effect.gen(function* () {
      const h = yield* harness(mappedDevices({ entity_id: { pointer: "/device/id" } }))
      const res = yield* call(h.handler, post([{ type: "not a type!", device: {} }]))
      assert.strictEqual(res.status, 400)
      const issues = res.body.issues as Array<string>
      assert.strictEqual(issues.length, 1)
      assert.match(issues[0]!, /^\[0\]: /)
      assert.include(issues[0], "entity_id (/device/id)")
      assert.include(issues[0], "event_type (/type): Expected a dotted event type")
    })
  )
  it.live("one item refused by its shape, another only by the event rules: both are named, in order", () =>
    Effect.gen(function* () {
      const h = yield* harness({ auth: { type: "none" } })
      const res = yield* call(
        h.handler,
        post([
          { ...draft(1), entity_id: 42 },
          { ...draft(2), event_type: "bad type" }
        ])
      )
      assert.strictEqual(res.status, 400)
      const issues = res.body.issues as Array<string>
      assert.strictEqual(issues.length, 2)
      assert.match(issues[0]!, /^\[0\]: .*\["entity_id"\]/)
      assert.match(issues[1]!, /^\[1\]: .*\["event_type"\]/)
      assert.strictEqual(yield* h.eventCount, 0)
    })
  )

  it.live("mapped format: a natural key past 500 characters is refused, beside an item refused for another field", () =>
    Effect.gen(function* () {
      const h = yield* harness(
        mappedDevices({
          entity_id: { pointer: "/id" },
          occurred_at: { pointer: "/at" },
          natural_key: { pointer: "/key" }
        })
      )
      const at = "2026-01-02T03:04:05Z"
      const long = { type: "device.seen", id: "d1", key: "k".repeat(501), at }
      const alone = yield* call(h.handler, post([long]))
      assert.strictEqual(alone.status, 400)
      assert.match((alone.body.issues as Array<string>)[0]!, /^\[0\]: natural_key \(\/key\)/)
      const mixed = yield* call(
        h.handler,
        post([
          { id: "d2", key: "k2", at },
          { type: "bad type", id: "d3", key: "k3", at }
        ])
      )
      assert.strictEqual(mixed.status, 400)
      const issues = mixed.body.issues as Array<string>
      assert.strictEqual(issues.length, 2)
      assert.match(issues[0]!, /^\[0\]: event_type \(\/type\)/)
      assert.match(issues[1]!, /^\[1\]: event_type \(\/type\): Expected a dotted event type/)
      assert.strictEqual(yield* h.eventCount, 0)
    })
  )
})

describe("a natural key without an occurrence time", () => {
  // The key names one fact; the time each delivery was received differs, so each would correct the last.
  it.live(
    "events format: a keyed draft without occurred_at is refused, naming it; with it, sent twice, one event",
    () =>
      Effect.gen(function* () {
        const h = yield* harness({ auth: { type: "none" } })
        const keyed = { ...draft(1), natural_key: "order-1-created" }
        const refused = yield* call(h.handler, post([draft(2), keyed]))
        assert.strictEqual(refused.status, 400)
        assert.match(
          (refused.body.issues as Array<string>)[0]!,
          /^\[1\]: required with natural_key.* at \["occurred_at"\]$/
        )
        assert.strictEqual(yield* h.eventCount, 0)
        const timed = { ...keyed, occurred_at: "2026-01-02T03:04:05Z" }
        assert.strictEqual((yield* call(h.handler, post([timed]))).status, 200)
        const again = yield* call(h.handler, post([timed]))
        assert.strictEqual(again.status, 200)
        assert.deepStrictEqual(again.body.appended, [], "the second delivery is a duplicate, not a correction")
        assert.strictEqual(yield* h.eventCount, 1)
      })
  )

  it("mapped format: a natural_key mapping without occurred_at is a config error naming occurred_at", () => {
    const decode = Schema.decodeUnknownExit(FormatConfig)
    const format = { type: "mapped", event_type: "device.seen", entity_type: "device", entity_id: { pointer: "/id" } }
    const exit = decode({ ...format, natural_key: { pointer: "/key" } })
    assert.isTrue(Exit.isFailure(exit))
    assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "occurred_at")
    assert.isTrue(
      Exit.isSuccess(decode({ ...format, natural_key: { pointer: "/key" }, occurred_at: { pointer: "/at" } }))
    )
    assert.isTrue(Exit.isSuccess(decode(format)), "without a key, the time received is the default")
  })
})
