/**
 * Test helpers for the local JetStream (NATS_URL, default nats://127.0.0.1:4222): a stream with a
 * unique name per test, deleted afterwards, and a publisher.
 */

import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { headers as natsHeaders } from "@nats-io/nats-core"
import { connect } from "@nats-io/transport-node"
import { Effect, type Scope } from "effect"

export const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222"

let counter = 0
/** A name no other test (or run) uses. */
export const uniqueName = (prefix: string): string => `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`

export interface TestStream {
  readonly stream: string
  readonly subject: string
  /** Publishes `body` on `subject.<token>` with `headers`; resolves once JetStream stored it. */
  readonly publish: (token: string, body: string, headers?: Readonly<Record<string, string>>) => Promise<number>
  /** The durable consumer's unacked and undelivered counts (-1 before it exists). */
  readonly consumerState: (consumer: string) => Promise<{ readonly ackPending: number; readonly pending: number }>
}

/** A fresh stream on `orders_<unique>.>`, deleted (with its consumers) when the scope closes. */
export const testStream: Effect.Effect<TestStream, never, Scope.Scope> = Effect.gen(function* () {
  const nc = yield* Effect.acquireRelease(
    Effect.promise(() => connect({ servers: natsUrl, noAsyncTraces: true })),
    (c) => Effect.promise(() => c.close())
  )
  const jsm = yield* Effect.promise(() => jetstreamManager(nc))
  const stream = uniqueName("sluice_test")
  const subject = stream
  yield* Effect.acquireRelease(
    Effect.promise(() => jsm.streams.add({ name: stream, subjects: [`${subject}.>`] })),
    () => Effect.promise(() => jsm.streams.delete(stream).catch(() => false))
  )
  const js = jetstream(nc)
  return {
    stream,
    subject,
    publish: async (token, body, headers = {}) => {
      const h = natsHeaders()
      for (const [k, v] of Object.entries(headers)) h.set(k, v)
      const ack = await js.publish(`${subject}.${token}`, body, { headers: h })
      return ack.seq
    },
    consumerState: async (consumer) => {
      // -1 while the source has not made its durable yet.
      const info = await jsm.consumers.info(stream, consumer).catch(() => undefined)
      return { ackPending: info?.num_ack_pending ?? -1, pending: info?.num_pending ?? -1 }
    }
  }
})
