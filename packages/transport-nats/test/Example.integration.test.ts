// The README's examples, compiled and run against the local JetStream: the relay publishes through the
// NATS transport, and a JetStream consumer reads the stream, deduplicating by Nats-Msg-Id.
import { assert, it } from "@effect/vitest"
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { connect } from "@nats-io/transport-node"
import { EventStore, layerMemory, Relay, type Route, Transports } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { NatsTransportPlugin } from "../src/index.ts"
import { natsUrl, uniqueName } from "./nats.ts"

it.live("README: the relay publishes through the NATS transport and a consumer deduplicates", () =>
  Effect.gen(function* () {
    const stream = uniqueName("EVENTS")
    const prefix = uniqueName("app")
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        const nc = await connect({ servers: natsUrl })
        await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false)
        await nc.close()
      })
    )
    const report = yield* Effect.scoped(
      Effect.gen(function* () {
        // #region compose
        const routes: ReadonlyArray<Route> = [{ name: "bus", transport: "bus", topic: "quotes", match: ["quote.*"] }]
        const Bus = NatsTransportPlugin.layer(
          {
            servers: [natsUrl],
            subject: `${prefix}.{topic}.{event_type}`,
            ensureStream: { name: stream, storage: "memory" }
          },
          "bus"
        )
        const Live = Bus.pipe(Layer.provideMerge(Transports.layer), Layer.provideMerge(layerMemory))
        const program = Effect.gen(function* () {
          const store = yield* EventStore
          yield* store.append(yield* makeBatch([makeEvent({ event_type: "quote.updated" })], ["bus"]))
          return yield* Relay.runOnce({ routes })
        })
        return yield* program.pipe(Effect.provide(Live))
        // #endregion
      })
    )
    assert.strictEqual(report.delivered, 1)

    const received = yield* Effect.promise(async () => {
      // #region consumer
      const nc = await connect({ servers: natsUrl })
      const jsm = await jetstreamManager(nc)
      await jsm.consumers.add(stream, { durable_name: "billing", ack_policy: AckPolicy.Explicit })
      const consumer = await jetstream(nc).consumers.get(stream, "billing")
      // The stream drops a repeated Nats-Msg-Id within its duplicate window; past it, a resend is a
      // second message: remember the ids handled (a table with a unique key, in real life).
      const handled = new Set<string>()
      const events: Array<{ event_id: string; event_type: string }> = []
      const messages = await consumer.fetch({ max_messages: 10, expires: 2_000 })
      for await (const m of messages) {
        const id = m.headers?.get("Nats-Msg-Id") ?? ""
        if (!handled.has(id)) {
          events.push(m.json()) // the canonical event JSON
          handled.add(id)
        }
        m.ack()
      }
      await nc.drain()
      // #endregion
      return events
    })
    assert.strictEqual(received.length, 1)
    assert.strictEqual(received[0]?.event_type, "quote.updated")
  })
)
