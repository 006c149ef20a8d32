import { describe, expect, it } from "@effect/vitest"
import type { JsMsg } from "@nats-io/jetstream"
import { Effect, Queue } from "effect"
import { moveMessages } from "../src/NatsSource.ts"

/** A message that records whether it was naked; nothing else of JsMsg is read. */
const message = (seq: number) => {
  const state = { seq, naked: false }
  const msg = {
    seq,
    nak: () => {
      state.naked = true
    }
  } as unknown as JsMsg
  return { msg, state }
}

const iteratorOf = (messages: ReadonlyArray<JsMsg>): AsyncIterator<JsMsg> => {
  let i = 0
  return {
    next: async () => (i < messages.length ? { done: false, value: messages[i++]! } : { done: true, value: undefined })
  }
}

describe("moveMessages (the pump's hand-off into the queue)", () => {
  it.effect("moves messages while the queue has room and hands back the one that found it full", () =>
    Effect.gen(function* () {
      const queue = yield* Queue.bounded<JsMsg>(2)
      const msgs = [1, 2, 3, 4].map(message)
      const full = yield* Effect.promise(() =>
        moveMessages(iteratorOf(msgs.map((m) => m.msg)), queue, new AbortController().signal)
      )
      expect(full).toBe(msgs[2]!.msg)
      expect((yield* Queue.takeAll(queue)).map((m) => m.seq)).toEqual([1, 2])
      expect(msgs.some((m) => m.state.naked)).toBe(false)
    })
  )

  it.effect("returns undefined when the pull is over", () =>
    Effect.gen(function* () {
      const queue = yield* Queue.bounded<JsMsg>(8)
      const full = yield* Effect.promise(() =>
        moveMessages(iteratorOf([message(1).msg]), queue, new AbortController().signal)
      )
      expect(full).toBeUndefined()
      expect((yield* Queue.takeAll(queue)).length).toBe(1)
    })
  )

  it.effect("naks a message that arrives after the pump was interrupted, and queues nothing", () =>
    Effect.gen(function* () {
      const queue = yield* Queue.bounded<JsMsg>(8)
      const late = message(7)
      const aborted = new AbortController()
      aborted.abort()
      const full = yield* Effect.promise(() => moveMessages(iteratorOf([late.msg]), queue, aborted.signal))
      expect(full).toBeUndefined()
      expect(late.state.naked).toBe(true)
      expect(yield* Queue.size(queue)).toBe(0)
    })
  )
})
