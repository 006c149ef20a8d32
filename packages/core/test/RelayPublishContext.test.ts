import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../src/EventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import * as Relay from "../src/Relay.ts"
import type { Route } from "../src/Routing.ts"
import { delivered, type PublishContext, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"

const routes: ReadonlyArray<Route> = [{ name: "default", transport: "t", topic: "t", match: ["**"] }]

const withTransport = (transport: Transport) => Layer.mergeAll(layerMemory, Transports.layerOf(transport))

/** Sends the first envelope of each publish (reporting it when told to), then never answers. */
const stallsAfterFirst = (reportsSending: boolean): Transport => ({
  name: "t",
  reportsSending,
  publish: (envelopes, context) =>
    Effect.andThen(
      Effect.sync(() => context.sending(envelopes.slice(0, 1))),
      Effect.never
    )
})

/** Runs one batch of two rows until its publish is in flight, interrupts it, returns the rows' attempts. */
const interruptedAttempts = Effect.gen(function* () {
  const store = yield* EventStore
  const admin = yield* OutboxAdmin
  yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
  const fiber = yield* Effect.forkChild(Relay.runOnce({ routes }))
  yield* TestClock.adjust("1 second")
  yield* Fiber.interrupt(fiber)
  const rows = yield* admin.listOutbox({})
  return rows.map((r) => [r.status, r.attempts, r.lease])
})

describe("relay: what publish is told", () => {
  it.effect("the deadline it is given falls a little before the publish timeout", () => {
    const seen: Array<{ readonly now: number; readonly context: PublishContext }> = []
    const recording: Transport = {
      name: "t",
      publish: (envelopes, context) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          seen.push({ now, context })
          return envelopes.map(() => delivered)
        })
    }
    return Effect.gen(function* () {
      const store = yield* EventStore
      yield* TestClock.setTime(1_000_000)
      yield* store.append(yield* makeBatch([makeEvent()]))
      yield* Relay.runOnce({ routes, publishTimeout: "20 seconds" })
      yield* store.append(yield* makeBatch([makeEvent()]))
      yield* Relay.runOnce({ routes, publishTimeout: "2 seconds" })
      // 1 s before a long timeout, a tenth of a short one.
      expect(seen.map((s) => s.context.deadline - s.now)).toEqual([19_000, 1_800])
    }).pipe(Effect.provide(withTransport(recording)))
  })

  it.effect("an interrupted publish counts an attempt only for what a reportsSending transport reported", () =>
    Effect.gen(function* () {
      expect(yield* interruptedAttempts).toEqual([
        ["pending", 1, null],
        ["pending", 0, null]
      ])
    }).pipe(Effect.provide(withTransport(stallsAfterFirst(true))))
  )

  it.effect("without reportsSending, every row of an interrupted publish counts an attempt, reported or not", () =>
    Effect.gen(function* () {
      expect(yield* interruptedAttempts).toEqual([
        ["pending", 1, null],
        ["pending", 1, null]
      ])
    }).pipe(Effect.provide(withTransport(stallsAfterFirst(false))))
  )
})
