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

// The simplest transport there is ignores its publish context: with the deadline gap declared, it
// still keeps the whole contract (the relay's timeout bounds it, and counts all of an interrupted
// publish as sent).
const ignoresContext = Effect.sync(() => {
  const accepted: Array<{ readonly event_id: string; readonly event: unknown }> = []
  let decide: (eventId: string) => Answer = () => "accept"
  const subject: TransportSubject = {
    transport: {
      name: "simple",
      publish: (envelopes) =>
        Effect.sync(() =>
          envelopes.map((envelope) => {
            const answer = decide(envelope.event.event_id)
            if (answer === "accept") {
              accepted.push({ event_id: envelope.event.event_id, event: encodeEvent(envelope.event) })
              return delivered
            }
            return answer === "fail" ? retryable("simple: told to fail") : permanent("simple: told to reject")
          })
        )
    },
    accepted: Effect.sync(() => [...accepted]),
    answer: (next) =>
      Effect.sync(() => {
        decide = next
      })
  }
  return subject
})

transportSuite("a transport that ignores its context", ignoresContext, {
  features: { deadline: { unsupported: "it sends everything at once, whatever the deadline" } }
})
