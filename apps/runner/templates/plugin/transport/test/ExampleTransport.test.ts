/**
 * The transport contract from `@sluice/core/vitest` (what the relay relies on: one outcome per
 * envelope, the deadline, `sending`, interruption), run against a local HTTP receiver that each
 * case steers: accept, fail or refuse each event, or hold requests unanswered.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { Transports } from "@sluice/core"
import type { TransportContract } from "@sluice/core/testing"
import { transportSuite } from "@sluice/core/vitest"
import { Effect, Layer } from "effect"
import { ExampleTransportPlugin, make } from "../src/index.ts"

type Handler = (request: IncomingMessage, response: ServerResponse) => void

/** An HTTP server on a free port of 127.0.0.1, closed with the scope. */
const listen = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.promise(() => {
      const server = createServer(handler)
      return new Promise<typeof server>((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)))
    }),
    (server) =>
      Effect.promise(() => {
        server.closeAllConnections()
        return new Promise<void>((resolve) => server.close(() => resolve()))
      })
  )

const receiver = Effect.gen(function* () {
  const accepted: Array<TransportContract.Received> = []
  let decide: (eventId: string) => TransportContract.Answer = () => "accept"
  let gate: { readonly arrived: () => void; readonly released: Promise<void> } | undefined
  const server = yield* listen((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", async () => {
      const { event } = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { event: { event_id: string } }
      const held = gate
      if (held !== undefined) {
        held.arrived()
        await held.released
      }
      const answer = decide(event.event_id)
      if (answer === "accept") accepted.push({ event_id: event.event_id, event })
      response.writeHead(answer === "accept" ? 204 : answer === "fail" ? 503 : 400).end()
    })
  })
  const { port } = server.address() as AddressInfo
  const transport = yield* make({ url: `http://127.0.0.1:${port}/events` }, "example-transport")
  const subject: TransportContract.TransportSubject = {
    transport,
    accepted: Effect.sync(() => [...accepted]),
    answer: (next) =>
      Effect.sync(() => {
        decide = next
      }),
    hold: Effect.sync(() => {
      let arrived = () => {}
      let release = () => {}
      const reached = new Promise<void>((resolve) => (arrived = resolve))
      gate = { arrived, released: new Promise<void>((resolve) => (release = resolve)) }
      return {
        arrived: Effect.promise(() => reached),
        release: Effect.sync(() => {
          gate = undefined
          release()
        })
      }
    })
  }
  return subject
})

// Real time: the transport talks to a real server.
transportSuite("example-transport", receiver, { time: "real" })

describe("example-transport options", () => {
  it.effect("a url that is not http(s) is refused, naming the field", () =>
    Effect.gen(function* () {
      const layer = ExampleTransportPlugin.layer({ url: "ftp://example.com" }).pipe(Layer.provide(Transports.layer))
      const error = yield* Effect.flip(Layer.build(layer))
      expect(error.message).toContain('at ["url"]')
    })
  )
})
