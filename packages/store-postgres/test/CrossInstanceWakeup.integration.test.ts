/**
 * Two store instances on one schema, as two processes: an append in one wakes a subscription
 * listener and a relay waiting in the other, by the NOTIFY the writer's driver sends
 * (PgNotifications.notify) and the other instance's LISTEN. The waits have no time limit: without
 * the NOTIFY they never return.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, OutboxQueue, SubscriptionStore } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { Context, Duration, Effect, Fiber, Layer } from "effect"
import { PgEventStore } from "../src/index.ts"
import { databaseUrl, dropSchema, freshSchemaName } from "./utils.ts"

const instance = (schema: string, migrate: boolean) =>
  Layer.build(PgEventStore.layer({ url: databaseUrl, schema, migrate, poolSize: 2 }))

describe("postgres.js: NOTIFY between store instances", () => {
  it.live("an append in one instance wakes a listener and a relay waiting in another", () =>
    Effect.gen(function* () {
      const schema = freshSchemaName("wakeup")
      yield* Effect.addFinalizer(() => dropSchema(schema))
      const writer = yield* instance(schema, true)
      const reader = yield* instance(schema, false)
      const listener = yield* Context.get(reader, SubscriptionStore).listen
      const subscriber = yield* Effect.forkChild(listener.wait(Duration.infinity))
      const relay = yield* Effect.forkChild(Context.get(reader, OutboxQueue).waitForWork(Duration.infinity))
      const event = makeEvent()
      yield* Context.get(writer, EventStore).append({
        raw: null,
        events: [event],
        outbox: [{ event_id: event.event_id, route: "billing", topic: "orders", ordering_key: null }]
      })
      yield* Fiber.join(subscriber)
      yield* Fiber.join(relay)
      assert.isDefined(subscriber.pollUnsafe())
      assert.isDefined(relay.pollUnsafe())
    }).pipe(Effect.scoped)
  )
})
