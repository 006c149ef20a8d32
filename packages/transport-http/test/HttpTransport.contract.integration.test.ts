import { TransportContract } from "@sluice/core/testing"
import { transportSuite } from "@sluice/core/vitest"
import { Effect, Layer, Redacted } from "effect"
import { make } from "../src/HttpTransport.ts"
import { HttpTransportConfig } from "../src/HttpTransportConfig.ts"
import * as NodeHttpTransport from "../src/node/index.ts"
import { type ReceivedRequest, startReceiver } from "./receiver.ts"
import { verify } from "./verify.ts"

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
const status = { accept: 204, fail: 503, reject: 422 } as const
const severity = { accept: 0, fail: 1, reject: 2 } as const

const eventsOf = (request: ReceivedRequest): ReadonlyArray<{ readonly event_id: string }> => {
  const body: unknown = JSON.parse(request.body)
  return (Array.isArray(body) ? body : [body]) as ReadonlyArray<{ readonly event_id: string }>
}

/**
 * The receiver verifies every signature (401 when one does not verify, which the contract sees as a
 * wrong outcome) and answers a request with the worst answer among its events.
 */
const httpSubject = (mode: "single" | "batch", platform: Layer.Layer<never>) =>
  Effect.gen(function* () {
    const control = TransportContract.makeReceiverControl()
    const receiver = yield* startReceiver(async (request) => {
      control.arrived()
      await control.released()
      const problem = verify(request.headers, request.body, [secret], Math.floor(Date.now() / 1000))
      if (problem !== undefined) return { status: 401, body: problem }
      const events = eventsOf(request)
      const answer = events
        .map((e) => control.decide(e.event_id))
        .reduce<TransportContract.Answer>((worst, a) => (severity[a] > severity[worst] ? a : worst), "accept")
      if (answer === "accept") for (const event of events) control.accept({ event_id: event.event_id, event })
      return { status: status[answer], body: answer }
    })
    const config = HttpTransportConfig.make({
      url: receiver.url,
      secrets: [Redacted.make(secret)],
      mode,
      maxBatchSize: 3,
      concurrency: 2,
      // Longer than the deadline case waits: only keeping the deadline can end its held publish in time.
      timeoutMs: 30_000,
      maxRetryAfterMs: 60_000,
      headers: {}
    })
    const transport = yield* make(config, "webhook").pipe(Effect.provide(platform))
    return control.subject(transport)
  })

// Both senders: the portable default (fetch, Web Crypto) and the Node one (node:http, node:crypto).
for (const [name, platform] of [
  ["fetch", Layer.empty],
  ["node", NodeHttpTransport.layer()]
] as const) {
  transportSuite(`http (single, ${name})`, httpSubject("single", platform), { time: "real" })
  transportSuite(`http (batch, ${name})`, httpSubject("batch", platform), {
    time: "real",
    features: {
      perEnvelopeOutcomes: { unsupported: "batch mode: the envelopes of one request share its answer" }
    }
  })
}
