/**
 * An event's trace (EventTrace.ts): the ingest of its payload and, with `TraceEvents` on, each relay
 * attempt are spans in the trace named by the event's `trace_id`, under the parent derived from it;
 * a transport is handed the attempt's span. Off, the relay records no per-event span.
 */
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Option, Tracer } from "effect"
import { EventStore } from "../src/EventStore.ts"
import * as EventTrace from "../src/EventTrace.ts"
import * as Ingest from "../src/Ingest.ts"
import { makeStores } from "../src/MemoryEventStore.ts"
import { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import type { Source } from "../src/Source.ts"
import { delivered, type Envelope, type PublishContext, type Transport } from "../src/Transport.ts"
import { Transports } from "../src/Transports.ts"

const route = { name: "hooks", transport: "spy", topic: "t", match: ["**"] }

/** A source whose one payload holds two events. */
const source: Source = {
  name: "traced",
  fetch: Effect.succeed({ payloads: [{ content_type: "application/json", body: "{}", request: null }], failures: [] }),
  transform: () =>
    Effect.succeed({
      events: ["a", "b"].map((id) => ({
        event_type: "thing.happened",
        entity_type: "thing",
        entity_id: id,
        occurred_at: DateTime.makeUnsafe(0),
        payload: { id }
      })),
      issues: []
    })
}

/** Records every span the program starts, and what the transport was handed. */
const recording = () => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    span(options) {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  const handed: Array<Tracer.AnySpan | undefined> = []
  const transport: Transport = {
    name: "spy",
    publish: (envelopes: ReadonlyArray<Envelope>, context: PublishContext) =>
      Effect.sync(() => {
        for (const envelope of envelopes) handed.push(context.spanOf?.(envelope))
        return envelopes.map(() => delivered)
      })
  }
  return { spans, tracer, handed, transport }
}

/** One tick of `source` and one relay batch under a recording tracer, `TraceEvents` as given. */
const ingestAndRelay = (traceEvents: boolean) =>
  Effect.gen(function* () {
    const { spans, tracer, handed, transport } = recording()
    const stores = yield* makeStores
    const program = Effect.gen(function* () {
      yield* Ingest.tick(source, makeRouterUnsafe([route])).pipe(Effect.provideService(EventStore, stores.eventStore))
      yield* Relay.runOnce({ routes: [route] }).pipe(
        Effect.provideService(OutboxQueue, stores.outboxQueue),
        Effect.provideService(Transports, Transports.makeOf([transport])),
        Effect.provideService(EventTrace.TraceEvents, traceEvents)
      )
    })
    yield* Effect.withTracer(program, tracer)
    return { spans, handed, events: yield* stores.eventStore.readEvents(0, 10) }
  })

describe("an event's trace", () => {
  it.effect("the payload's ingest and each relay attempt are in the event's trace, under its derived parent", () =>
    Effect.gen(function* () {
      const { spans, handed, events } = yield* ingestAndRelay(true)
      assert.strictEqual(events.length, 2)
      const traceId = events[0]!.event.trace_id
      assert.strictEqual(events[1]!.event.trace_id, traceId, "one payload, one trace")
      const parentId = (span: Tracer.Span) =>
        Option.getOrUndefined(Option.map(span.parent, (p) => `${p.traceId}/${p.spanId}`))
      const root = `${traceId}/${EventTrace.rootSpanId(traceId)}`
      const ingest = spans.filter((s) => s.name === "sluice.ingest.payload")
      assert.deepStrictEqual(ingest.map(parentId), [root])
      const tick = spans.find((s) => s.name === "sluice.ingest.tick")!
      assert.deepStrictEqual(
        ingest[0]!.links.map((l) => l.span.spanId),
        [tick.spanId],
        "linked to the tick that fetched it"
      )
      const attempts = spans.filter((s) => s.name === "sluice.relay.attempt")
      assert.deepStrictEqual(attempts.map(parentId), [root, root])
      assert.deepStrictEqual(
        attempts.map((s) => s.attributes.get("sluice.event_id")).sort(),
        events.map((e) => e.event.event_id).sort()
      )
      assert.deepStrictEqual(
        attempts.map((s) => [s.attributes.get("sluice.outcome"), s.status._tag]),
        [
          ["Delivered", "Ended"],
          ["Delivered", "Ended"]
        ]
      )
      assert.deepStrictEqual(handed, attempts, "the transport is handed each envelope's attempt span")
    })
  )

  it.effect("with TraceEvents off (the default) the relay records no per-event span", () =>
    Effect.gen(function* () {
      const { spans, handed } = yield* ingestAndRelay(false)
      assert.strictEqual(spans.filter((s) => s.name === "sluice.relay.attempt").length, 0)
      assert.deepStrictEqual(handed, [undefined, undefined])
      assert.strictEqual(spans.filter((s) => s.name === "sluice.ingest.payload").length, 1)
    })
  )
})
