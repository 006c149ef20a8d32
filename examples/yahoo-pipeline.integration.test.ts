/**
 * Runs the README's plugin example end to end: the real yahoo-finance2 code answered from the
 * recorded responses, embedded PGlite, the console transport into a captured sink, and the HTTP
 * transport against a local receiver that checks each request is signed.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "@effect/vitest"
import { layerFetch } from "@sluice/plugin-yfinance"
import { readRecordings, shippedRecordings } from "@sluice/plugin-yfinance/replay"
import { makeReplayFetch } from "@sluice/plugin-yfinance/testing"
import { PgEventStore } from "@sluice/store-postgres"
import { ConsoleSink } from "@sluice/transport-console"
import { Effect, Layer } from "effect"
import { ingestAndDeliver, plugins } from "./yahoo-pipeline.ts"

// The recordings plugin-yfinance ships (its offline replay's default).
const recordings = await Effect.runPromise(readRecordings(shippedRecordings))

/** A webhook receiver on 127.0.0.1 that records each body and its signature header. */
const receiver = Effect.acquireRelease(
  Effect.promise(
    () =>
      new Promise<{ url: string; received: Array<{ body: string; signature: string }>; close: () => void }>(
        (resolve) => {
          const received: Array<{ body: string; signature: string }> = []
          const server = createServer((req, res) => {
            let body = ""
            req.on("data", (chunk) => {
              body += chunk
            })
            req.on("end", () => {
              received.push({ body, signature: String(req.headers["webhook-signature"] ?? "") })
              res.writeHead(204).end()
            })
          })
          server.listen(0, "127.0.0.1", () =>
            resolve({
              url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
              received,
              close: () => server.close()
            })
          )
        }
      )
  ),
  (r) => Effect.sync(r.close)
)

describe("README plugin example: Yahoo -> PGlite -> console + webhook", () => {
  it.live(
    "delivers the recorded quotes to the console and the recorded bars to the webhook",
    () =>
      Effect.gen(function* () {
        const hook = yield* receiver
        const lines: Array<string> = []
        const sink = ConsoleSink.of({ isTTY: false, write: (text) => Effect.sync(() => void lines.push(text)) })
        const stats = yield* ingestAndDeliver.pipe(
          Effect.provide(
            Layer.mergeAll(
              plugins(hook.url, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
              PgEventStore.layerPglite({})
            ).pipe(
              Layer.provide(
                Layer.merge(layerFetch(makeReplayFetch(recordings).fetch), Layer.succeed(ConsoleSink, sink))
              )
            )
          )
        )
        const quotes = lines.map((line) => JSON.parse(line))
        expect(quotes.map((q) => q.event.entity_id).sort()).toEqual(["AAPL", "BABA"])
        expect(quotes.every((q) => q.event.event_type === "quote.updated")).toBe(true)
        const bars = hook.received.map((r) => JSON.parse(r.body))
        expect(bars.length).toBeGreaterThan(0)
        expect(new Set(bars.map((b) => b.entity_id))).toEqual(new Set(["AAPL", "BTC-USD"]))
        expect(bars.every((b) => b.event_type === "bar.closed")).toBe(true)
        expect(hook.received.every((r) => r.signature.startsWith("v1,"))).toBe(true)
        expect(stats).toMatchObject({ pending: 0, dead: 0, delivered: quotes.length + bars.length })
      }).pipe(Effect.scoped),
    60_000
  )
})
