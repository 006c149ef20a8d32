/**
 * `sluice run`'s scheduled prune (Retention.ts) on the memory store and TestClock: it prunes at
 * start and then every `retention.every`, logging each prune with its counts, and a raw payload
 * policy refused because events are pending is logged in the report instead of failing the prune.
 */
import { assert, describe, it } from "@effect/vitest"
import { Completion, EventStore, layerMemory, OutboxQueue } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Duration, Effect, Fiber, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { decodeConfig } from "../src/ConfigFile.ts"
import * as Retention from "../src/Retention.ts"
import { withEnv } from "./support/config.ts"

const minimal = {
  transports: [{ name: "out", plugin: "console" }],
  routes: [{ name: "all", transport: "out", topic: "t", match: ["**"] }]
}

describe("scheduled retention", () => {
  it.effect("prunes at start and every interval, logging the counts", () =>
    Effect.gen(function* () {
      const config = yield* decodeConfig("c.json", {
        ...minimal,
        retention: { delivered: "1 minute", every: "1 hour", raw: { olderThan: "1 day" } }
      }).pipe(withEnv())
      const logged: Array<{ readonly message: unknown; readonly annotations: Record<string, unknown> }> = []
      const logger = Logger.make(({ message, fiber }) => {
        const text = Array.isArray(message) ? message[0] : message
        logged.push({ message: text, annotations: fiber.getRef(References.CurrentLogAnnotations) })
      })
      // After the fixtures' raw payloads were received (2026-01-02): older than the raw age.
      yield* TestClock.setTime(Date.UTC(2026, 5, 1))
      const store = yield* EventStore
      const queue = yield* OutboxQueue
      yield* store.append(yield* makeBatch([makeEvent(), makeEvent()], ["all"]))
      const [first, second] = yield* queue.claim({ owner: "w", limit: 2, lease: Duration.minutes(5) })
      yield* queue.complete([
        Completion.Delivered({ outboxId: first!.entry.outbox_id, token: first!.entry.lease!.token })
      ])
      const fiber = yield* Effect.forkChild(
        Retention.scheduled(config.retention).pipe(Effect.provide(Logger.layer([logger])))
      )
      yield* TestClock.adjust(Duration.seconds(1))
      const pruned = () => logged.filter((m) => m.message === "retention: pruned").map((m) => m.annotations)
      assert.strictEqual(pruned().length, 1, "a prune at start")
      assert.strictEqual(pruned()[0]!.delivered, 0, "the delivered row is younger than a minute")
      assert.match(String((pruned()[0]!.raw as { skipped: string }).skipped), /still pending/)
      yield* queue.complete([
        Completion.Delivered({ outboxId: second!.entry.outbox_id, token: second!.entry.lease!.token })
      ])
      yield* TestClock.adjust(Duration.hours(1))
      assert.strictEqual(pruned().length, 2, "the next prune an hour later")
      assert.deepStrictEqual(pruned()[1]!.by_route, { all: { delivered: 2, dead: 0 } })
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.provide(layerMemory))
  )
})
