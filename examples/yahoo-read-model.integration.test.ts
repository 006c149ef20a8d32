/**
 * The README's projection example on PGlite: the recorded Yahoo quotes and daily bars are ingested,
 * the projection builds the read model from them, a rebuild (after the read model was damaged)
 * gives it back exactly, and a running projection follows a new quote.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  EventStore,
  Ids,
  Ingest,
  LogPosition,
  makeRouterUnsafe,
  Projection,
  Sources,
  SubscriptionStore,
  type TraceId
} from "@sluice/core"
import {
  BAR_CLOSED,
  type BarPayload,
  layerFetch,
  QUOTE_UPDATED,
  type QuotePayload,
  YFinancePlugin
} from "@sluice/plugin-yfinance"
import { readRecordings, shippedRecordings } from "@sluice/plugin-yfinance/replay"
import { makeReplayFetch } from "@sluice/plugin-yfinance/testing"
import { PgEventStore } from "@sluice/store-postgres"
import { DateTime, Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"
import { createReadModel, rebuildReadModel, runReadModel, yahooReadModel } from "./yahoo-read-model.ts"

const recordings = await Effect.runPromise(readRecordings(shippedRecordings))

const layer = Layer.mergeAll(
  YFinancePlugin.layer({ symbols: ["AAPL", "BABA"] }, "quotes"),
  YFinancePlugin.layer(
    {
      mode: "chart",
      symbols: ["AAPL", "BTC-USD", "EURUSD=X", "GC=F"],
      interval: "1d",
      period1: "2020-01-01",
      period2: "2020-01-03"
    },
    "bars"
  )
).pipe(
  Layer.provideMerge(Sources.layer),
  Layer.provide(layerFetch(makeReplayFetch(recordings).fetch)),
  Layer.merge(PgEventStore.layerPglite({}))
)

/** One tick of every source, with no routes: the events are only stored. */
const ingest = Effect.gen(function* () {
  const router = makeRouterUnsafe([])
  for (const source of yield* (yield* Sources).all) yield* Ingest.tick(source, router)
})

/** The read model as rows, in a stable order. */
const readModel = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const quotes = yield* sql<{ symbol: string; price: number }>`SELECT symbol, price FROM latest_quotes ORDER BY symbol`
  const days = yield* sql<{
    symbol: string
    day: string
    open: number
    high: number
    low: number
    close: number
    source: string
  }>`
    SELECT symbol, day::text AS day, open, high, low, close, source FROM daily_ohlc ORDER BY symbol, day`
  return { quotes, days }
})

/** What the read model should hold, computed from the log in memory. */
const expectedFromLog = Effect.gen(function* () {
  const events = yield* SubscriptionStore.use((s) => s.readAll(LogPosition.start, 10_000))
  const quotes = new Map<string, number>()
  const days = new Map<
    string,
    { symbol: string; day: string; open: number; high: number; low: number; close: number }
  >()
  for (const { event } of events) {
    if (event.event_type === QUOTE_UPDATED) {
      const q = event.payload as unknown as QuotePayload
      quotes.set(q.symbol, q.price)
      const day = q.market_time.slice(0, 10)
      const key = `${q.symbol} ${day}`
      const row = days.get(key)
      days.set(
        key,
        row === undefined
          ? { symbol: q.symbol, day, open: q.price, high: q.price, low: q.price, close: q.price }
          : { ...row, high: Math.max(row.high, q.price), low: Math.min(row.low, q.price), close: q.price }
      )
    } else if (event.event_type === BAR_CLOSED) {
      const b = event.payload as unknown as BarPayload
      const day = b.start.slice(0, 10)
      days.set(`${b.symbol} ${day}`, { symbol: b.symbol, day, open: b.open, high: b.high, low: b.low, close: b.close })
    }
  }
  const byKey = (a: { symbol: string; day?: string }, b: { symbol: string; day?: string }) =>
    `${a.symbol} ${a.day ?? ""}` < `${b.symbol} ${b.day ?? ""}` ? -1 : 1
  return {
    quotes: [...quotes].map(([symbol, price]) => ({ symbol, price })).sort(byKey),
    days: [...days.values()].sort(byKey)
  }
})

const withoutSource = <A extends { source?: unknown }>(rows: ReadonlyArray<A>) =>
  rows.map(({ source: _, ...rest }) => rest)

describe("README projection example: a read model of the Yahoo events", () => {
  it.live(
    "builds the latest quotes and daily OHLC, rebuilds them exactly after a reset, and follows new quotes",
    () =>
      Effect.gen(function* () {
        yield* ingest
        yield* createReadModel
        const report = yield* Projection.catchUp(yahooReadModel)
        const built = yield* readModel
        const expected = yield* expectedFromLog
        expect(report.events).toBeGreaterThan(0)
        expect(built.quotes.map((q) => q.symbol)).toEqual(["AAPL", "BABA"])
        expect(new Set(built.days.map((d) => d.symbol))).toEqual(
          new Set(["AAPL", "BABA", "BTC-USD", "EURUSD=X", "GC=F"])
        )
        expect(built.quotes).toEqual(expected.quotes)
        expect(withoutSource(built.days)).toEqual(expected.days)

        // Damage the read model, then rebuild it from the log: the same rows come back.
        const sql = yield* SqlClient.SqlClient
        yield* sql`UPDATE latest_quotes SET price = 0`
        yield* sql`DELETE FROM daily_ohlc WHERE symbol = 'AAPL'`
        yield* Projection.rebuild(yahooReadModel)
        expect((yield* readModel).quotes).toEqual([])
        yield* sql`UPDATE latest_quotes SET price = 0`
        const again = yield* rebuildReadModel
        expect(again.events).toBe(report.events)
        expect(yield* readModel).toEqual(built)

        // Running, it applies a new quote as it is appended.
        yield* runReadModel
        const latest = built.quotes.find((q) => q.symbol === "AAPL")!
        const stored = (yield* expectedQuote("AAPL")) as unknown as QuotePayload
        const payload = { ...stored, price: latest.price + 1, market_time: "2030-01-02T15:00:00.000Z" }
        yield* EventStore.use((store) =>
          store.append({
            raw: null,
            outbox: [],
            events: [
              {
                event_id: Ids.deterministicEventId("example", "AAPL@2030"),
                event_type: QUOTE_UPDATED,
                entity_type: "instrument",
                entity_id: "AAPL",
                trace_id: "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId,
                schema_version: 1,
                occurred_at: DateTime.makeUnsafe(payload.market_time),
                payload: { ...payload }
              }
            ]
          })
        )
        const price = sql<{ price: number }>`SELECT price FROM latest_quotes WHERE symbol = 'AAPL'`
        yield* price.pipe(
          Effect.repeat({
            until: (rows) => rows[0]?.price === latest.price + 1,
            schedule: Schedule.spaced("20 millis")
          }),
          Effect.timeout("60 seconds")
        )
      }).pipe(Effect.scoped, Effect.provide(layer)),
    120_000
  )
})

/** The stored AAPL quote's payload, to derive a new one from. */
const expectedQuote = (symbol: string) =>
  SubscriptionStore.use((s) => s.readAll(LogPosition.start, 10_000)).pipe(
    Effect.map(
      (events) =>
        events.find((e) => e.event.event_type === QUOTE_UPDATED && e.event.entity_id === symbol)?.event.payload
    )
  )
