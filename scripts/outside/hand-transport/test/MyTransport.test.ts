import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { noDeadline, Transports } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { MyTransport } from "../src/index.ts"

/** A receiver answering 204 and keeping each request's webhook-id. */
const receiver = Effect.acquireRelease(
  Effect.promise(async () => {
    const ids: Array<string> = []
    const server = createServer((request, response) => {
      ids.push(String(request.headers["webhook-id"]))
      request.resume().on("end", () => response.writeHead(204).end())
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    return { ids, server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` }
  }),
  ({ server }) => Effect.promise(() => new Promise<void>((resolve) => server.close(() => resolve())))
)

describe("my-transport", () => {
  it.live("POSTs every envelope and reports it delivered", () =>
    Effect.gen(function* () {
      const { ids, url } = yield* receiver
      const events = ["a", "b"].map((key) => makeEvent({ key }))
      const outcomes = yield* Effect.gen(function* () {
        const transport = yield* (yield* Transports).get("mine")
        return yield* transport.publish(
          events.map((event) => TransportContract.envelope(event)),
          noDeadline
        )
      }).pipe(Effect.provide(MyTransport.layer({ url }, "mine").pipe(Layer.provideMerge(Transports.layer))))
      expect(outcomes.map((outcome) => outcome._tag)).toEqual(["Delivered", "Delivered"])
      expect(ids).toEqual(events.map((event) => event.event_id))
    }).pipe(Effect.scoped)
  )
})
