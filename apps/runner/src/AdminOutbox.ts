/**
 * The admin API's outbox operations: `GET /api/dead-letters` (a page), `GET /api/dead-letters/:id`,
 * `POST /api/dead-letters/replay` (by ids, route or event type, or all), `POST
 * /api/dead-letters/:id/replay`, `POST /api/dead-letters/purge` (with `confirm: true`), `GET
 * /api/routes` and `POST /api/routes/:name/pause|resume`. What `sluice dlq` and `sluice routes` do with
 * `--admin`.
 */
import type { EventStore, OutboxAdmin, Route } from "@sluice/core"
import { Effect, Option, Schema } from "effect"
import { body, type Endpoint, intParam, json, query, textParam } from "./AdminEndpoint.ts"
import * as Guards from "./AdminGuards.ts"
import * as DeadLetters from "./DeadLetters.ts"
import * as RouteControl from "./RouteControl.ts"

/** The most rows one `GET /api/dead-letters` answers (`sluice dlq list --admin` pages through more). */
export const maxPageSize = 1000

const OutboxIdText = Schema.String.pipe(Schema.check(Schema.isPattern(/^\d+$/)))

const ReplayBody = Schema.Struct({
  ids: Schema.optionalKey(Schema.Array(OutboxIdText)),
  route: Schema.optionalKey(Schema.String),
  event_type: Schema.optionalKey(Schema.String),
  all: Schema.optionalKey(Schema.Boolean)
})

const PurgeBody = Schema.Struct({
  route: Schema.optionalKey(Schema.String),
  confirm: Schema.optionalKey(Schema.Boolean)
})

const Empty = Schema.Struct({})

const PauseBody = Schema.Struct({
  reason: Schema.optionalKey(Schema.String.pipe(Schema.check(Schema.isMaxLength(500))))
})

export const endpoints = (
  store: OutboxAdmin["Service"],
  events: EventStore["Service"],
  configured: ReadonlyArray<Pick<Route, "name" | "rateLimit">>
): ReadonlyArray<Endpoint> => [
  {
    path: /^\/api\/dead-letters$/,
    methods: {
      GET: (request) =>
        Effect.gen(function* () {
          const params = yield* query(request, ["limit", "route", "after"])
          const limit = yield* intParam(params, "limit", 1, maxPageSize, 100)
          const route = yield* textParam(params, "route", /./, "a route name")
          const after = yield* textParam(params, "after", /^\d{1,19}$/, "an outbox id (digits)")
          return json(yield* DeadLetters.page(store, { limit, route, after }))
        })
    }
  },
  {
    path: /^\/api\/dead-letters\/replay$/,
    methods: {
      POST: (request) =>
        Effect.gen(function* () {
          yield* query(request, [])
          const replay = yield* body(request, ReplayBody)
          const filter = { ids: replay.ids ?? [], route: replay.route, eventType: replay.event_type }
          const empty = filter.ids.length === 0 && filter.route === undefined && filter.eventType === undefined
          if (empty && replay.all !== true) return Guards.error(400, "give ids, route or event_type, or all: true")
          return json(yield* DeadLetters.replay(store, filter))
        })
    }
  },
  {
    path: /^\/api\/dead-letters\/purge$/,
    methods: {
      POST: (request) =>
        Effect.gen(function* () {
          yield* query(request, [])
          const purge = yield* body(request, PurgeBody)
          if (purge.confirm !== true) {
            return Guards.error(400, "purge deletes dead letters for good: send confirm: true")
          }
          return json({ purged: yield* store.purgeDead(purge.route === undefined ? {} : { route: purge.route }) })
        })
    }
  },
  {
    path: /^\/api\/dead-letters\/([^/]+)$/,
    methods: {
      GET: (request, [id = ""]) =>
        Effect.gen(function* () {
          yield* query(request, [])
          const found = yield* DeadLetters.show(store, events, id)
          if (Option.isNone(found)) return Guards.error(404, `no dead letter with id ${id}`)
          return json(found.value)
        })
    }
  },
  {
    path: /^\/api\/routes$/,
    methods: {
      GET: (request) =>
        Effect.gen(function* () {
          yield* query(request, [])
          return json(yield* RouteControl.states(store, configured))
        })
    }
  },
  {
    path: /^\/api\/routes\/([^/]+)\/(pause|resume)$/,
    methods: {
      POST: (request, [route = "", action = ""]) =>
        Effect.gen(function* () {
          yield* query(request, [])
          if (!RouteControl.isRouteName(route)) return Guards.error(400, `not a route name: ${route}`)
          if (action === "resume") {
            yield* body(request, Empty)
            return json(yield* RouteControl.resume(store, route))
          }
          const { reason } = yield* body(request, PauseBody)
          return json(yield* RouteControl.pause(store, route, reason))
        })
    }
  },
  {
    path: /^\/api\/dead-letters\/([^/]+)\/replay$/,
    methods: {
      POST: (request, [id = ""]) =>
        Effect.gen(function* () {
          yield* query(request, [])
          yield* body(request, Empty)
          const { replayed } = yield* DeadLetters.replay(store, { ids: [id] })
          return json({ replayed }, replayed === 0 ? 404 : 200)
        })
    }
  }
]
