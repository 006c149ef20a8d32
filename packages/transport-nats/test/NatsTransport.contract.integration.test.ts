/**
 * The Transport contract against the real client and server, with a fake stream: a subscriber on the
 * transport's subjects answering each publish as JetStream does (an ack, a 503 for "fail", a 400
 * for "reject"), so a case can steer answers per event and hold them.
 */
import type { TransportContract } from "@sluice/core/testing"
import { transportSuite } from "@sluice/core/vitest"
import { Deferred, Effect, Schema } from "effect"
import { headerNames } from "../src/Headers.ts"
import { make } from "../src/NatsTransport.ts"
import { NatsTransportConfig } from "../src/NatsTransportConfig.ts"
import { apiError, fakeStream, natsUrl, testConnection, uniqueName } from "./nats.ts"

const natsSubject = Effect.gen(function* () {
  const prefix = uniqueName("contract")
  let decide: (eventId: string) => TransportContract.Answer = () => "accept"
  let gate: Promise<void> | undefined
  const arrivals: Array<() => void> = []
  const accepted: Array<TransportContract.Received> = []
  let seq = 0
  const nc = yield* testConnection()
  yield* fakeStream(nc, `${prefix}.>`, (msg) => {
    for (const notify of arrivals.splice(0)) notify()
    const id = msg.headers?.get(headerNames.msgId) ?? ""
    const respond = () => {
      const answer = decide(id)
      if (answer === "accept") {
        accepted.push({ event_id: id, event: JSON.parse(msg.string()) })
        msg.respond(JSON.stringify({ stream: "FAKE", seq: ++seq }))
      } else if (answer === "fail") {
        msg.respond(apiError(503, 10077, "resources exceeded"))
      } else {
        msg.respond(apiError(400, 10054, "message size exceeds maximum allowed"))
      }
    }
    if (gate === undefined) respond()
    else void gate.then(respond)
  })
  const config = Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [natsUrl], subject: `${prefix}.{topic}` })
  const transport = yield* make(config, "nats")
  const subject: TransportContract.TransportSubject = {
    transport,
    accepted: Effect.sync(() => [...accepted]),
    answer: (next) =>
      Effect.sync(() => {
        decide = next
      }),
    hold: Effect.gen(function* () {
      const arrived = yield* Deferred.make<void>()
      let release: () => void = () => {}
      gate = new Promise((resolve) => {
        release = resolve
      })
      arrivals.push(() => Deferred.doneUnsafe(arrived, Effect.void))
      return {
        arrived: Deferred.await(arrived),
        release: Effect.sync(() => {
          gate = undefined
          release()
        })
      }
    })
  }
  return subject
})

transportSuite("nats", natsSubject, { time: "real", timeout: 30_000 })
