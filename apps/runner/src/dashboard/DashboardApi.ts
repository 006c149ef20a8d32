/**
 * The admin API endpoints the dashboard reads besides `/api/status` and `/api/dead-letters`, all
 * behind the token: `GET /api/backlog` (per-route backlog from the store's cheap `backlog`, fit for
 * polling, unlike `/api/status`), `GET /api/rates` (RateHistory.ts), `GET /api/sources`
 * (SourceHealth.ts). The events and raw payloads it opens come from AdminInspect.ts.
 */
import type { OutboxAdmin } from "@sluice/core"
import { Clock, DateTime, Effect } from "effect"
import { type Endpoint, json, type Request } from "../AdminEndpoint.ts"
import * as Guards from "../AdminGuards.ts"
import type { RateHistory } from "../RateHistory.ts"
import type { SourceHealth } from "../SourceHealth.ts"

export interface DashboardApiOptions {
  readonly store: OutboxAdmin["Service"]
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

export const endpoints = (options: DashboardApiOptions): ReadonlyArray<Endpoint> => [
  {
    path: /^\/api\/backlog$/,
    methods: {
      GET: (request) =>
        Effect.gen(function* () {
          yield* noQuery(request)
          const backlog = yield* options.store.backlog
          const now = yield* Clock.currentTimeMillis
          const names = [...new Set([...options.routes, ...Object.keys(backlog.byRoute)])].sort()
          return json({
            pending: backlog.pending,
            leased: backlog.leased,
            dead: backlog.dead,
            oldest_pending_age_s: age(now, backlog.oldestPendingAt),
            routes: names.map((route) => {
              const r = backlog.byRoute[route]
              return {
                route,
                pending: r?.pending ?? 0,
                leased: r?.leased ?? 0,
                dead: r?.dead ?? 0,
                oldest_pending_age_s: age(now, r?.oldestPendingAt ?? null)
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
  }
]
