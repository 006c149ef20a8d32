/**
 * `GET /api/projections/:name` over a memory store, served in process: the report `sluice
 * projection show --admin` prints, measured by the running process's projections.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, MemoryEventStore, OutboxAdmin, SubscriptionStore } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer, Option } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as Admin from "../src/Admin.ts"
import { hostRule } from "../src/AdminGuards.ts"
import type { ReadyProjection } from "../src/Projections.ts"
import { StoreHealth } from "../src/StoreLayer.ts"

const rows = [{ symbol: "AAPL" }, { symbol: "BABA" }, { symbol: "MSFT" }]

const ready = (name: string, show: ReadyProjection["show"]): ReadyProjection => ({
  name,
  plugin: "@example/read-model",
  projection: { name, apply: () => Effect.void },
  setup: Effect.void,
  show,
  options: {}
})

const quotes = ready(
  "quotes",
  Option.some((limit) => Effect.succeed([{ name: "public.quotes", rows: rows.slice(0, limit), total: rows.length }]))
)
const silent = ready("silent", Option.none())
const broken = ready(
  "broken",
  Option.some(() => Effect.fail(new Error('relation "public.quotes" does not exist')))
)

/** An admin web handler whose config has `configured` projections, of which `started` run. */
const setup = (configured: ReadonlyArray<string>, started: ReadonlyArray<ReadyProjection>) =>
  Effect.gen(function* () {
    const stores = yield* MemoryEventStore.makeStores
    yield* stores.eventStore.append(yield* makeBatch([makeEvent(), makeEvent()], []))
    const services = Layer.mergeAll(
      Layer.succeed(EventStore, stores.eventStore),
      Layer.succeed(OutboxAdmin, stores.outboxAdmin),
      Layer.succeed(SubscriptionStore, stores.subscriptionStore),
      Layer.succeed(StoreHealth, StoreHealth.of({ check: Effect.succeed({ database: true, migrations: true }) })),
      HttpServer.layerServices
    )
    const { handler, dispose } = HttpRouter.toWebHandler(
      Admin.routes({
        hosts: hostRule("127.0.0.1", 9464, ["admin"]),
        subscribers: configured,
        projections: Effect.succeed(started)
      }).pipe(Layer.provide(services)),
      { disableLogger: true }
    )
    yield* Effect.addFinalizer(() => Effect.promise(() => dispose()))
    return (path: string) =>
      Effect.promise(async () => {
        const response = await handler(new Request(`http://admin${path}`, { headers: { host: "admin" } }))
        return { status: response.status, body: (await response.json()) as Record<string, unknown> }
      })
  })

describe("admin API: projections", () => {
  it.live("answers a running projection's checkpoint, lag and newest rows, at most `limit` per table", () =>
    Effect.gen(function* () {
      const call = yield* setup(["quotes", "silent"], [quotes, silent])
      const shown = yield* call("/api/projections/quotes?limit=2")
      assert.strictEqual(shown.status, 200)
      const { oldest_unprocessed_age_s, ...subscription } = shown.body.subscription as Record<string, unknown>
      assert.isNumber(oldest_unprocessed_age_s)
      assert.deepStrictEqual(
        { ...shown.body, subscription },
        {
          name: "quotes",
          plugin: "@example/read-model",
          shows_rows: true,
          subscription: { name: "quotes", checkpoint: null, updated_at: null, lag_events: 2, lag_capped: false },
          tables: [{ name: "public.quotes", rows: rows.slice(0, 2), total: 3 }]
        }
      )
      assert.strictEqual(
        ((yield* call("/api/projections/quotes")).body.tables as Array<{ rows: [] }>)[0]?.rows.length,
        3
      )
      const none = yield* call("/api/projections/silent")
      assert.deepStrictEqual([none.status, none.body.shows_rows, none.body.tables], [200, false, []])
    })
  )

  it.live("refuses an unknown name (404), a projection not started yet (503) and a bad limit (400)", () =>
    Effect.gen(function* () {
      const call = yield* setup(["quotes", "broken"], [])
      const unknown = yield* call("/api/projections/nope")
      assert.deepStrictEqual(unknown, {
        status: 404,
        body: {
          error: 'no projection named "nope" (its projections: quotes, broken)',
          projections: ["quotes", "broken"]
        }
      })
      const starting = yield* call("/api/projections/quotes")
      assert.deepStrictEqual(starting, {
        status: 503,
        body: { error: "projection quotes is not started yet: try again shortly" }
      })
      const limit = yield* call("/api/projections/quotes?limit=0")
      assert.strictEqual(limit.status, 400)
      assert.include(limit.body.error as string, "limit: expected an integer from 1 to 1000")
    })
  )

  it.live("a read model that cannot be read answers 500 saying why", () =>
    Effect.gen(function* () {
      const call = yield* setup(["broken"], [broken])
      const failed = yield* call("/api/projections/broken")
      assert.strictEqual(failed.status, 500)
      assert.include(failed.body.error as string, "projection broken: cannot read its read model")
      assert.include(failed.body.error as string, 'relation "public.quotes" does not exist')
    })
  )
})
