/**
 * What the relay's log lines say: a failed batch names the rows that will be delivered again, and
 * every delivery line names the outbox row (what `sluice dlq show/replay` take) and the event type.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Logger } from "effect"
import { TestClock, TestConsole } from "effect/testing"
import { EventStore, StoreError } from "../src/EventStore.ts"
import { jsonLogger } from "../src/JsonLogger.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import type { Route } from "../src/Routing.ts"
import { permanent, retryable, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import { MemoryTransport } from "../src/testing/MemoryTransport.ts"

const routes: ReadonlyArray<Route> = [{ name: "hooks", transport: "memory", topic: "orders", match: ["**"] }]

type Line = Record<string, unknown>
const lines = Effect.map(
  TestConsole.logLines,
  (all): ReadonlyArray<Line> => all.map((line) => JSON.parse(String(line)))
)
const logged = Layer.mergeAll(TestConsole.layer, Logger.layer([jsonLogger]))

/** The memory store with its queue's `complete` and `claim` replaced where given. */
const storeWith = (overrides: Partial<OutboxQueue["Service"]>) =>
  Layer.effectContext(
    Effect.map(MemoryEventStore.makeStores, (stores) =>
      MemoryEventStore.toContext({ ...stores, outboxQueue: OutboxQueue.of({ ...stores.outboxQueue, ...overrides }) })
    )
  )

describe("relay log lines", () => {
  it.effect("a batch whose results could not be recorded names the rows that will be delivered again", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const events = Array.from({ length: 25 }, () => makeEvent())
      yield* store.append(yield* makeBatch(events, ["hooks"]))
      const ids = (yield* admin.listOutbox({})).map((row) => row.outbox_id)
      const relay = yield* Effect.forkChild(Relay.run({ routes, lease: "30 seconds", pollInterval: "1 minute" }))
      // The database does not answer: recording gives up after the lease.
      yield* Effect.yieldNow
      yield* TestClock.adjust("31 seconds")
      const failed = (yield* lines).filter((line) => String(line.message).startsWith("relay batch failed"))
      expect(failed).toHaveLength(1)
      expect(failed[0]).toMatchObject({
        level: "ERROR",
        message:
          "relay batch failed: results not recorded, these rows will be delivered again when their lease expires",
        error: "complete: timed out recording results",
        worker: 0,
        redelivered: 25,
        outbox_ids: ids.slice(0, 20),
        event_ids: events.slice(0, 20).map((e) => e.event_id)
      })
      yield* Fiber.interrupt(relay)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(storeWith({ complete: () => Effect.never }), MemoryTransport.layer("memory"), logged)
      )
    )
  )

  it.effect("a batch that failed before claiming anything says only why", () =>
    Effect.gen(function* () {
      const relay = yield* Effect.forkChild(Relay.run({ routes, pollInterval: "1 minute" }))
      yield* TestClock.adjust("1 second")
      const [failed] = (yield* lines).filter((line) => String(line.message).startsWith("relay batch failed"))
      expect(failed).toMatchObject({ message: "relay batch failed", error: "claim: connection refused", worker: 0 })
      expect(failed).not.toHaveProperty("outbox_ids")
      yield* Fiber.interrupt(relay)
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          storeWith({
            claim: () =>
              Effect.fail(new StoreError({ operation: "claim", reason: "connection refused", retryable: true }))
          }),
          MemoryTransport.layer("memory"),
          logged
        )
      )
    )
  )

  it.effect("retry and dead-letter lines carry the outbox id and the event type", () => {
    const answers: Transport = {
      name: "memory",
      publish: (envelopes) =>
        Effect.succeed(
          envelopes.map((e) => (e.event.entity_id === "busy" ? retryable("HTTP 503") : permanent("HTTP 400")))
        )
    }
    return Effect.gen(function* () {
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const busy = makeEvent({ entity_id: "busy", event_type: "order.placed" })
      const refused = makeEvent({ entity_id: "refused", event_type: "order.cancelled" })
      yield* store.append(yield* makeBatch([busy, refused], ["hooks"]))
      const [busyRow, refusedRow] = yield* admin.listOutbox({})
      yield* Relay.runOnce({ routes })
      const all = yield* lines
      const common = { route: "hooks", topic: "topic.hooks", attempt: 1 }
      expect(all.find((line) => line.message === "delivery failed, will retry")).toMatchObject({
        ...common,
        outbox_id: busyRow!.outbox_id,
        event_id: busy.event_id,
        event_type: "order.placed",
        trace_id: busy.trace_id,
        error: "HTTP 503"
      })
      expect(all.find((line) => line.message === "dead-lettered: permanent failure")).toMatchObject({
        ...common,
        outbox_id: refusedRow!.outbox_id,
        event_id: refused.event_id,
        event_type: "order.cancelled",
        error: "permanent: HTTP 400"
      })
    }).pipe(Effect.provide(Layer.mergeAll(storeWith({}), Transports.layerOf(answers), logged)))
  })
})
