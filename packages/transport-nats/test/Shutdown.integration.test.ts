/**
 * The connection's lifetime: opened through the NatsConnector in the context (with noAsyncTraces),
 * drained and closed when the transport's scope closes. A publish still waiting for acks then ends
 * with Retryable outcomes (the stream may have the events), never with a failure or a hang.
 */
import { assert, it } from "@effect/vitest"
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core"
import { noDeadline } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Deferred, Effect, Exit, Fiber, Schema, Scope } from "effect"
import { NatsConnector } from "../src/NatsConnector.ts"
import { make } from "../src/NatsTransport.ts"
import { NatsTransportConfig } from "../src/NatsTransportConfig.ts"
import { nodeConnector } from "../src/node/index.ts"
import { fakeStream, natsUrl, testConnection, uniqueName } from "./nats.ts"

it.live("closing the scope closes the connection; a publish awaiting acks ends Retryable", () =>
  Effect.gen(function* () {
    const prefix = uniqueName("shut")
    const nc = yield* testConnection()
    // A stream that never answers: the acks are still awaited when the scope closes.
    const arrived = yield* Deferred.make<void>()
    yield* fakeStream(nc, `${prefix}.>`, () => Deferred.doneUnsafe(arrived, Effect.void))
    const opened: Array<NatsConnection> = []
    const asked: Array<ConnectionOptions> = []
    const connector = NatsConnector.of({
      ...nodeConnector,
      connect: (options) =>
        nodeConnector.connect(options).then((connection) => {
          asked.push(options)
          opened.push(connection)
          return connection
        })
    })
    const scope = yield* Scope.make()
    const transport = yield* make(
      Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [natsUrl], subject: `${prefix}.{topic}` }),
      "nats"
    ).pipe(Effect.provideService(NatsConnector, connector), Scope.provide(scope))
    assert.strictEqual(opened.length, 1, "the connector in the context opened the connection")
    assert.strictEqual(asked[0]?.noAsyncTraces, true, "noAsyncTraces by default")
    const batch = Array.from({ length: 50 }, () => TransportContract.envelope(makeEvent(), "r1", "orders"))
    const publishing = yield* Effect.forkChild(transport.publish(batch, noDeadline))
    yield* Deferred.await(arrived)
    yield* Scope.close(scope, Exit.void)
    assert.isTrue(opened[0]!.isClosed(), "closed once the scope is")
    const outcomes = yield* Fiber.join(publishing)
    assert.deepStrictEqual(
      outcomes.map((o) => o._tag),
      batch.map(() => "Retryable")
    )
  })
)
