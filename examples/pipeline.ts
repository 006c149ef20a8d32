/**
 * The README's example pipeline: a source, a route, a transport, composed in code on the in-memory
 * store. `memory-pipeline.ts` runs it; `pipeline.test.ts` unit-tests it with TestClock.
 */

// #region imports
import { delivered, encodeEvent, OutboxAdmin, Pipeline, type Route, type Source, type Transport } from "@sluice/core"
import { Clock, Console, DateTime, Effect } from "effect"
// #endregion imports

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
// #endregion routes

// #region run
/** The pipeline in one description: the source, ticked every second, and the routes its events take. */
export const pipeline = Pipeline.make({
  routes,
  sources: [{ source: priceSource, every: "1 second" }],
  relay: { pollInterval: "100 millis" }
})

/** Runs the pipeline for `ticks` ticks and until the outbox is empty; returns the outbox stats. */
export const runDemo = (ticks: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      yield* Pipeline.start(yield* pipeline)
      yield* Effect.sleep(`${ticks - 0.5} seconds`)
      const admin = yield* OutboxAdmin
      while ((yield* admin.stats).pending > 0) yield* Effect.sleep("50 millis")
      return yield* admin.stats
    })
  )
// #endregion run
