/**
 * `sluice projection show` of the Yahoo read model prints the same rows, and the same counts, on
 * PGlite and on PostgreSQL (postgres.js): no column comes back as a number on one driver and a
 * string on the other.
 */
import { describe, expect, it } from "@effect/vitest"
import { Ingest, makeRouterUnsafe, Projection, Sources } from "@sluice/core"
import { layerFetch, YFinancePlugin } from "@sluice/plugin-yfinance"
import { YahooReadModelPlugin } from "@sluice/plugin-yfinance/read-model"
import { readRecordings, shippedRecordings } from "@sluice/plugin-yfinance/replay"
import { makeReplayFetch } from "@sluice/plugin-yfinance/testing"
import { PgEventStore } from "@sluice/store-postgres"
import { Effect, Layer, Schedule } from "effect"
import { SqlClient } from "effect/sql"

const recordings = await Effect.runPromise(readRecordings(shippedRecordings))
const databaseUrl = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const sources = YFinancePlugin.layer({ symbols: ["AAPL", "BABA"] }, "quotes").pipe(
  Layer.provideMerge(Sources.layer),
  Layer.provide(layerFetch(makeReplayFetch(recordings).fetch))
)

/** Ingests the recorded quotes, builds the read model in `schema`, and returns what `show(1)` gives, as JSON. */
const shown = (schema: string) =>
  Effect.gen(function* () {
    for (const source of yield* (yield* Sources).all) yield* Ingest.tick(source, makeRouterUnsafe([]))
    const model = yield* YahooReadModelPlugin.make({ schema }, "yahoo-read-model")
    yield* model.setup ?? Effect.void
    // On PostgreSQL a catch-up stops below the oldest running transaction (another test's, say): again until done.
    let handled = 0
    yield* Projection.catchUp(model.projection).pipe(
      Effect.tap((report) => Effect.sync(() => (handled += report.events))),
      Effect.repeat({ until: () => handled >= 2, schedule: Schedule.spaced("50 millis") }),
      Effect.timeout("60 seconds")
    )
    return JSON.parse(JSON.stringify(yield* model.show!(1))) as unknown
  })

describe("the Yahoo read model's show", () => {
  it.live(
    "gives the same rows and totals on PGlite and on PostgreSQL",
    () =>
      Effect.gen(function* () {
        const onPglite = yield* shown("public").pipe(Effect.provide(Layer.merge(sources, PgEventStore.layerPglite({}))))
        const schema = `show_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
        const onPostgres = yield* Effect.gen(function* () {
          const sql = yield* SqlClient.SqlClient
          return yield* shown(schema).pipe(Effect.ensuring(Effect.ignore(sql`DROP SCHEMA ${sql(schema)} CASCADE`)))
        }).pipe(Effect.provide(Layer.merge(sources, PgEventStore.layer({ url: databaseUrl, schema, poolSize: 2 }))))
        expect(onPglite).toEqual([
          {
            name: "public.latest_quotes",
            total: 2,
            rows: [{ symbol: "AAPL", price: 244.6, currency: "USD", market_time: "2025-02-14T21:00:00.000Z" }]
          },
          {
            name: "public.daily_ohlc",
            total: 2,
            rows: [expect.objectContaining({ symbol: "AAPL", day: "2025-02-14", open: 244.6, volume: 40896227 })]
          }
        ])
        const renamed = JSON.parse(JSON.stringify(onPostgres).replaceAll(`${schema}.`, "public."))
        expect(renamed).toEqual(onPglite)
      }),
    120_000
  )
})
