/**
 * The admin API endpoints the dashboard reads besides `/api/status` and `/api/dead-letters`, all
 * behind the token: `GET /api/backlog` (per-route backlog from the store's cheap `backlog`, fit for
 * polling, unlike `/api/status`), `GET /api/rates` (RateHistory.ts), `GET /api/sources`
 * (SourceHealth.ts), `GET /api/events/{event_id}` and `GET /api/raw/{raw_id}` (an event and the raw
 * payload it came from, as stored).
 */
import { EventId, type EventStore, encodeEvent, type OutboxAdmin, RawPayloadId } from "@sluice/core"
import { Clock, DateTime, Effect, Option, Schema } from "effect"
import { type Endpoint, json, type Request } from "../AdminEndpoint.ts"
import * as Guards from "../AdminGuards.ts"
import type { RateHistory } from "../RateHistory.ts"
import type { SourceHealth } from "../SourceHealth.ts"

export interface DashboardApiOptions {
  readonly store: OutboxAdmin["Service"]
  readonly events: EventStore["Service"]
  /** The config's routes: listed at 0 before any row. */
  readonly routes: ReadonlyArray<string>
  readonly rates: RateHistory
  /** None: `/api/sources` lists none (a process that ingests nothing). */
  readonly sources: SourceHealth | undefined
}

// None of these endpoints takes a parameter: refuse one rather than ignore it.
const noQuery = (request: Request) =>
  new URL(request.url, "http://admin").search === ""
    ? Effect.void
    : Effect.fail(Guards.error(400, "this endpoint takes no query parameters"))

const age = (now: number, at: DateTime.Utc | null) =>
  at === null ? null : Math.max(0, Math.round((now - DateTime.toEpochMillis(at)) / 1000))

const isEventId = Schema.is(EventId)
const isRawId = Schema.is(RawPayloadId)

export const endpoints = (options: DashboardApiOptions): ReadonlyArray<Endpoint> => [
  {
    path: /^\/api\/backlog$/,
    methods: {
      GET: (request) =>
        Effect.gen(function* () {
          yield* noQuery(request)
          const backlog = yield* options.store.backlog
          const now = yield* Clock.currentTimeMillis
          const names = [...new Set([...options.routes, ...Object.keys(backlog.by_route)])].sort()
          return json({
            pending: backlog.pending,
            leased: backlog.leased,
            dead: backlog.dead,
            oldest_pending_age_s: age(now, backlog.oldest_pending_at),
            routes: names.map((route) => {
              const r = backlog.by_route[route]
              return {
                route,
                pending: r?.pending ?? 0,
                leased: r?.leased ?? 0,
                dead: r?.dead ?? 0,
                oldest_pending_age_s: age(now, r?.oldest_pending_at ?? null)
              }
            })
          })
        })
    }
  },
  {
    path: /^\/api\/rates$/,
    methods: {
      GET: (request) =>
        Effect.andThen(
          noQuery(request),
          Effect.map(options.rates.report, (r) => json(r))
        )
    }
  },
  {
    path: /^\/api\/sources$/,
    methods: {
      GET: (request) =>
        Effect.andThen(
          noQuery(request),
          Effect.map(options.sources?.report ?? Effect.succeed([]), (sources) => json({ sources }))
        )
    }
  },
  {
    path: /^\/api\/events\/([^/]+)$/,
    methods: {
      GET: (request, [id = ""]) =>
        Effect.gen(function* () {
          yield* noQuery(request)
          if (!isEventId(id)) return Guards.error(400, `not an event id (a lower-case UUID): ${JSON.stringify(id)}`)
          const found = yield* options.events.getEvent(id)
          if (Option.isNone(found)) return Guards.error(404, `no event with id ${id}`)
          const stored = found.value
          return json({
            position: stored.position,
            revision: stored.revision,
            raw_id: stored.raw_id,
            recorded_at: DateTime.formatIso(stored.recorded_at),
            event: encodeEvent(stored.event)
          })
        })
    }
  },
  {
    path: /^\/api\/raw\/([^/]+)$/,
    methods: {
      GET: (request, [id = ""]) =>
        Effect.gen(function* () {
          yield* noQuery(request)
          if (!isRawId(id)) return Guards.error(400, `not a raw payload id (a UUID): ${JSON.stringify(id)}`)
          const found = yield* options.events.getRaw(id)
          if (Option.isNone(found)) return Guards.error(404, `no raw payload with id ${id}`)
          return json({ ...found.value, received_at: DateTime.formatIso(found.value.received_at) })
        })
    }
  }
]
