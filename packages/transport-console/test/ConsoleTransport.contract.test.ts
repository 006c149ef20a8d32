import type { TransportContract } from "@sluice/core/testing"
import { transportSuite } from "@sluice/core/vitest"
import { Deferred, Effect } from "effect"
import { ConsoleSink } from "../src/ConsoleSink.ts"
import { make } from "../src/ConsoleTransport.ts"
import { makeCaptureSink, sinkError } from "./captureSink.ts"

// The "receiver" is the sink: a line it takes is received; one it refuses fails the write.
const consoleSubject = Effect.gen(function* () {
  let decide: (eventId: string) => TransportContract.Answer = () => "accept"
  const capture = makeCaptureSink(false)
  const idOf = (line: string) => (JSON.parse(line) as { event: { event_id: string } }).event.event_id
  capture.failWhen = (line) => {
    const answer = decide(idOf(line))
    return answer === "accept" ? undefined : sinkError(`sink told to ${answer}`, answer === "fail")
  }
  const transport = yield* make({ format: "json" }, "console").pipe(Effect.provideService(ConsoleSink, capture.sink))
  const subject: TransportContract.TransportSubject = {
    transport,
    accepted: Effect.sync(() =>
      capture.lines().map((line) => {
        const { event } = JSON.parse(line) as { event: { event_id: string } }
        return { event_id: event.event_id, event }
      })
    ),
    answer: (next) =>
      Effect.sync(() => {
        decide = next
      }),
    hold: Effect.gen(function* () {
      const arrived = yield* Deferred.make<void>()
      let release: () => void = () => {}
      capture.gate = new Promise((resolve) => {
        release = resolve
      })
      capture.onWrite = () => Deferred.doneUnsafe(arrived, Effect.void)
      return {
        arrived: Deferred.await(arrived),
        release: Effect.sync(() => {
          capture.gate = undefined
          release()
        })
      }
    })
  }
  return subject
})

transportSuite("console", consoleSubject)
