/**
 * The Transport contract against the real client and server, with a fake stream: a subscriber on the
 * transport's subjects answering each publish as JetStream does (an ack, a 503 for "fail", a 400
 * for "reject"), so a case can steer answers per event and hold them.
 */
import { TransportContract } from "@sluice/core/testing"
import { transportSuite } from "@sluice/core/vitest"
import { Effect, Schema } from "effect"
import { headerNames } from "../src/Headers.ts"
import { make } from "../src/NatsTransport.ts"
import { NatsTransportConfig } from "../src/NatsTransportConfig.ts"
import { apiError, fakeStream, natsUrl, testConnection, uniqueName } from "./nats.ts"

const natsSubject = Effect.gen(function* () {
  const prefix = uniqueName("contract")
  const control = TransportContract.makeReceiverControl()
  let seq = 0
  const nc = yield* testConnection()
  yield* fakeStream(nc, `${prefix}.>`, (msg) => {
    control.arrived()
    const id = msg.headers?.get(headerNames.msgId) ?? ""
    void control.released().then(() => {
      const answer = control.decide(id)
      if (answer === "accept") {
        control.accept({ event_id: id, event: JSON.parse(msg.string()) })
        msg.respond(JSON.stringify({ stream: "FAKE", seq: ++seq }))
      } else if (answer === "fail") {
        msg.respond(apiError(503, 10077, "resources exceeded"))
      } else {
        msg.respond(apiError(400, 10054, "message size exceeds maximum allowed"))
      }
    })
  })
  const config = Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [natsUrl], subject: `${prefix}.{topic}` })
  return control.subject(yield* make(config, "nats"))
})

transportSuite("nats", natsSubject, { time: "real", timeout: 30_000 })
