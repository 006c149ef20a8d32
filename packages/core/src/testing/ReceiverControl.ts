/**
 * The receiver side of a transport contract subject (TransportContract.ts), for an adapter whose
 * test runs a real receiver (an HTTP server, a fake JetStream stream): what the case decided to
 * answer, what was accepted, and the hold that keeps deliveries unanswered until released. The
 * receiver calls `arrived` when a delivery comes in, waits for `released()`, answers `decide(id)`,
 * and reports acceptances with `accept`; `subject(transport)` is the contract's TransportSubject.
 */
import { Deferred, Effect } from "effect"
import type { Transport } from "../Transport.ts"
import type { Answer, Received, TransportSubject } from "./TransportContract.ts"

export interface ReceiverControl {
  /** The receiver got a delivery (wakes a case waiting for a held one to arrive). */
  readonly arrived: () => void
  /** Resolves when the receiver may answer: at once unless a case holds deliveries. */
  readonly released: () => Promise<void>
  /** How the case wants this event's delivery answered (default: accept). */
  readonly decide: (eventId: string) => Answer
  /** The receiver accepted a delivery. */
  readonly accept: (received: Received) => void
  readonly subject: (transport: Transport) => TransportSubject
}

export const makeReceiverControl = (): ReceiverControl => {
  let decide: (eventId: string) => Answer = () => "accept"
  let gate: Promise<void> | undefined
  const arrivals: Array<() => void> = []
  const accepted: Array<Received> = []
  return {
    arrived: () => {
      for (const notify of arrivals.splice(0)) notify()
    },
    released: () => gate ?? Promise.resolve(),
    decide: (eventId) => decide(eventId),
    accept: (received) => {
      accepted.push(received)
    },
    subject: (transport) => ({
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
    })
  }
}
