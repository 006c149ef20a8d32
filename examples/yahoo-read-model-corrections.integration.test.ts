/**
 * A corrected quote replaces its effect on the Yahoo read model: the day's open, high and low are
 * folded again from the quotes as they stand (a correction replaces the quote it supersedes), not
 * from every version ever appended. Quotes arriving out of order fold to the same row.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, Ids, Projection } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { QUOTE_UPDATED } from "@sluice/plugin-yfinance"
import { makeReadModel, ReadModelPayloadError } from "@sluice/plugin-yfinance/read-model"
import { PgEventStore } from "@sluice/store-postgres"
import { DateTime, Effect } from "effect"
import { SqlClient } from "effect/sql"

/** A quote of ZZZ at `time` (its natural key: symbol and market time, as the Yahoo plugin's). */
const quote = (time: string, price: number) =>
  makeEvent({
    event_id: Ids.deterministicEventId("quotes", `ZZZ@${time}`),
    event_type: QUOTE_UPDATED,
    entity_type: "instrument",
    entity_id: "ZZZ",
    occurred_at: DateTime.makeUnsafe(time),
    payload: { symbol: "ZZZ", price, currency: "USD", market_time: time, volume: price * 10 }
  })

const { setup, projection } = makeReadModel("corrections-read-model", "public")

const day = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`SELECT open, high, low, close, volume FROM public.daily_ohlc WHERE symbol = 'ZZZ'`
  return rows.map((row) => ({ ...row }))
})

describe("the Yahoo read model under corrections", () => {
  it.effect("a corrected quote's old price leaves the day's open, high and low", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* setup
      const append = (event: ReturnType<typeof quote>) => store.append({ raw: null, events: [event], outbox: [] })
      yield* append(quote("2026-01-05T15:00:00Z", 100))
      yield* append(quote("2026-01-05T16:00:00Z", 90))
      yield* Projection.catchUp(projection)
      expect(yield* day).toEqual([{ open: 100, high: 100, low: 90, close: 90, volume: 900 }])
      // The 15:00 quote restated: same key, other price, so a correction superseding it.
      const restated = yield* append(quote("2026-01-05T15:00:00Z", 50))
      expect(restated.corrected).toHaveLength(1)
      // And a quote that arrives after a later one (out of order) is still the day's first.
      yield* append(quote("2026-01-05T14:00:00Z", 70))
      yield* Projection.catchUp(projection)
      expect(yield* day).toEqual([{ open: 70, high: 90, low: 50, close: 90, volume: 900 }])
      // A rebuild folds the same row.
      yield* Projection.rebuild(projection)
      yield* Projection.catchUp(projection)
      expect(yield* day).toEqual([{ open: 70, high: 90, low: 50, close: 90, volume: 900 }])
    }).pipe(Effect.provide(PgEventStore.layerPglite({})))
  )

  it.effect("a quote it cannot read fails the batch, naming the event and the field; nothing is skipped", () =>
    Effect.gen(function* () {
      const store = yield* EventStore
      yield* setup
      const odd = makeEvent({ event_type: QUOTE_UPDATED, entity_type: "instrument", payload: { symbol: "ZZZ" } })
      yield* store.append({ raw: null, events: [odd], outbox: [] })
      const error = yield* Effect.flip(Projection.catchUp(projection))
      expect(error).toBeInstanceOf(ReadModelPayloadError)
      expect(error.message).toContain(`event ${odd.event_id} (quote.updated)`)
      expect(error.message).toContain('["price"]')
    }).pipe(Effect.provide(PgEventStore.layerPglite({})))
  )
})
