/**
 * The README's example pipeline: a source, a route, a transport, composed in code on the in-memory
 * store. `memory-pipeline.ts` runs it; `pipeline.test.ts` unit-tests it with TestClock.
 */

import {
  delivered,
  EventStore,
  encodeEvent,
  Ingest,
  makeRouterUnsafe,
  Relay,
  type Route,
  type Source,
  type Transport
} from "@sluice/core"
import { Clock, Console, DateTime, Effect, Fiber } from "effect"

// #region source
/** A source that "fetches" a price table and turns each row into a `price.updated` event. */
export const priceSource: Source = {
  name: "demo-prices",
  fetch: Effect.map(Clock.currentTimeMillis, (now) => ({
    payloads: [
      {
        content_type: "application/json",
        body: JSON.stringify({ at: now, prices: { ACME: 101.5, GLOBEX: 42.25 } }),
        request: { table: "prices" }
      }
    ],
    failures: []
  })),
  transform: (raw) =>
    Effect.sync(() => {
      const body = JSON.parse(raw.body) as { at: number; prices: Record<string, number> }
      return {
        events: Object.entries(body.prices).map(([symbol, price]) => ({
          event_type: "price.updated",
          entity_type: "instrument",
          entity_id: symbol,
          occurred_at: DateTime.makeUnsafe(body.at),
          payload: { symbol, price },
          // Same symbol and time -> same event id: re-fetching creates no duplicate.
          natural_key: `${symbol}@${body.at}`
        })),
        issues: []
      }
    })
}
// #endregion source

// #region transport
/**
 * A transport that prints each event as one JSON line. It leaves out publish's second argument, the
 * relay's `{ deadline, sending }`: printing waits on no receiver, and the relay's publish timeout
 * bounds it anyway.
 */
export const printTransport: Transport = {
  name: "stdout",
  publish: (envelopes) =>
    Effect.forEach(envelopes, (envelope) =>
      Effect.as(Console.log(JSON.stringify({ topic: envelope.topic, ...encodeEvent(envelope.event) })), delivered)
    )
}
// #endregion transport

// #region routes
export const routes: ReadonlyArray<Route> = [
  { name: "prices-to-stdout", transport: "stdout", topic: "prices", match: ["price.*"] }
]
export const router = makeRouterUnsafe(routes)
// #endregion routes

// #region run
/** Ingests `ticks` times, one second apart, while a relay delivers; returns the outbox stats. */
export const runDemo = (ticks: number) =>
  Effect.gen(function* () {
    const relay = yield* Effect.forkChild(Relay.run({ routes, pollInterval: "100 millis" }))
    for (let i = 0; i < ticks; i++) {
      yield* Ingest.tick(priceSource, router)
      yield* Effect.sleep("1 second")
    }
    const store = yield* EventStore
    while ((yield* store.stats).pending > 0) yield* Effect.sleep("50 millis")
    yield* Fiber.interrupt(relay)
    return yield* store.stats
  })
// #endregion run
