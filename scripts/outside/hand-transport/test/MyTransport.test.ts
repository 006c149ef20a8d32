import { describe, expect, it } from "@effect/vitest"
import { noDeadline, Transports } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { MyTransport } from "../src/index.ts"

describe("my-transport", () => {
  it.effect("reports every envelope delivered", () =>
    Effect.gen(function* () {
      const transport = yield* (yield* Transports).get("mine")
      const envelopes = ["a", "b"].map((key) => TransportContract.envelope(makeEvent({ key })))
      const outcomes = yield* transport.publish(envelopes, noDeadline)
      expect(outcomes.map((outcome) => outcome._tag)).toEqual(["Delivered", "Delivered"])
    }).pipe(Effect.provide(MyTransport.layer({ label: "test" }, "mine").pipe(Layer.provideMerge(Transports.layer))))
  )
})
