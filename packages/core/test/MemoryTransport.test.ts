import { Effect } from "effect"
import { encodeEvent } from "../src/Event.ts"
import { delivered, permanent, retryable } from "../src/Transport.ts"
import * as MemoryTransport from "../src/testing/MemoryTransport.ts"
import type { Answer, TransportSubject } from "../src/testing/TransportContract.ts"
import { transportSuite } from "../vitest/transport.ts"

// The memory transport's "receiver" is its behaviour function: an answer per event id.
const memorySubject = Effect.gen(function* () {
  let decide: (eventId: string) => Answer = () => "accept"
  const handle = yield* MemoryTransport.make("memory", (envelope) => {
    const answer = decide(envelope.event.event_id)
    return answer === "accept"
      ? delivered
      : answer === "fail"
        ? retryable("memory: told to fail")
        : permanent("memory: told to reject")
  })
  const subject: TransportSubject = {
    transport: handle.transport,
    accepted: Effect.map(handle.delivered, (envelopes) =>
      envelopes.map((e) => ({ event_id: e.event.event_id, event: encodeEvent(e.event) }))
    ),
    answer: (next) =>
      Effect.sync(() => {
        decide = next
      })
  }
  return subject
})

transportSuite("memory", memorySubject)
