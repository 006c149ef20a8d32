import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { EventStore } from "../src/EventStore.ts"
import { streamName, WrongExpectedRevisionError } from "../src/Stream.ts"
import { layerMemoryCompetingAppends } from "../src/testing/CompetingAppends.ts"
import { makeEvent } from "../src/testing/fixtures.ts"

describe("layerMemoryCompetingAppends", () => {
  it.effect("a competing event lands before each stream's first `times` appends, then none", () => {
    const racing = layerMemoryCompetingAppends({
      event: (name) => makeEvent({ ...name, event_type: "rival.wrote" }),
      times: 2
    })
    return Effect.gen(function* () {
      const store = yield* EventStore
      const a = streamName("doc", "a")
      const b = streamName("doc", "b")
      const mine = (name: typeof a) => ({
        raw: null,
        events: [makeEvent({ ...name, event_type: "me.wrote" })],
        outbox: []
      })
      const lost = yield* Effect.flip(store.appendToStream(a, mine(a), { expectedRevision: "no_stream" }))
      assert.instanceOf(lost, WrongExpectedRevisionError)
      assert.deepStrictEqual([lost.expected, lost.actual], ["no_stream", 0])
      yield* store.appendToStream(a, mine(a), { expectedRevision: "any" })
      yield* store.appendToStream(a, mine(a), { expectedRevision: 2 })
      yield* store.appendToStream(b, mine(b), { expectedRevision: 0 })
      assert.deepStrictEqual(
        (yield* store.readStream(a)).map((s) => s.event.event_type),
        ["rival.wrote", "rival.wrote", "me.wrote", "me.wrote"]
      )
      assert.deepStrictEqual(
        (yield* store.readStream(b)).map((s) => s.event.event_type),
        ["rival.wrote", "me.wrote"]
      )
      assert.strictEqual(yield* racing.competed, 3)
    }).pipe(Effect.provide(racing.layer))
  })
})
