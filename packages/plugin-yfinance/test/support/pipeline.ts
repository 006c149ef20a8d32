/** Test support: a source instance wired to the replaying fetch, and the store's contents. */
import { EventStore, makeRouterUnsafe, OutboxAdmin, Plugin, type RawPayloadId } from "@sluice/core"
import { Effect, Option } from "effect"
import { layerFetch, YFinancePlugin } from "../../src/index.ts"
import type { FetchFn } from "../../src/YahooFetch.ts"

/** Quotes and bars each get a route; `all` takes everything. */
export const router = makeRouterUnsafe([
  { name: "quotes", transport: "memory", topic: "quotes", match: ["quote.*"] },
  { name: "bars", transport: "memory", topic: "bars", match: ["bar.closed"] },
  { name: "all", transport: "memory", topic: "all", match: ["**"] }
])

/** Decodes `config` like the runner does and builds the source on `fetch`, named `instance`. */
export const sourceOf = (config: unknown, fetch: FetchFn, instance = "yf") =>
  Plugin.decodeConfig(YFinancePlugin, instance, config).pipe(
    Effect.flatMap((decoded) => YFinancePlugin.make(decoded, instance)),
    Effect.provide(layerFetch(fetch)),
    Effect.orDie
  )

/** Every stored event, in position order. */
export const storedEvents = Effect.gen(function* () {
  const store = yield* EventStore
  return yield* store.readEvents(0, 10_000)
})

/** A stored raw payload (dies when missing). */
export const storedRaw = (id: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    return Option.getOrThrow(yield* store.getRaw(id as RawPayloadId))
  })

/** Every outbox row. */
export const outboxRows = Effect.gen(function* () {
  const admin = yield* OutboxAdmin
  return yield* admin.listOutbox({ limit: 10_000 })
})
