/**
 * The admin HTTP API: `/healthz` (the process is up), `/readyz` (database reachable, migrations
 * applied), `/metrics` (Prometheus text, with backlog and subscriber gauges read at each scrape),
 * `/api/status` (the report of `sluice status`),
 * `/api/dead-letters` (list, show, replay, purge), `/api/routes` (pause, resume), the store's
 * events and raw payloads (AdminInspect.ts), the projections (AdminProjections.ts) and the dashboard (`/` and the endpoints it reads:
 * src/dashboard/). Every request passes AdminGuards' checks (Host, Origin, token but on
 * `/healthz` and the dashboard's page, JSON content type and body size on POST); unknown paths
 * answer 404 and other methods 405 with `Allow`, all as JSON `{"error": ...}`.
 * The endpoints and their checks use Effect's http, crypto and net modules, not Node's (only
 * DashboardPage.ts reads its files with node:fs); `AdminServer.ts` serves them with Node.
 */
import { EventStore, OutboxAdmin, RawPayloadStore, type Route, type StoreError, SubscriptionStore } from "@sluice/core"
import { ByteSize, Duration, Effect, Layer, Option, type Redacted } from "effect"
import { HttpIncomingMessage, HttpRouter, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import * as AdminEndpoint from "./AdminEndpoint.ts"
import * as Guards from "./AdminGuards.ts"
import * as AdminInspect from "./AdminInspect.ts"
import * as AdminOutbox from "./AdminOutbox.ts"
import * as AdminProjections from "./AdminProjections.ts"
import { makeBacklogGauges } from "./BacklogMetrics.ts"
import * as DashboardApi from "./dashboard/DashboardApi.ts"
import * as DashboardPage from "./dashboard/DashboardPage.ts"
import type { ReadyProjection } from "./Projections.ts"
import * as RateHistory from "./RateHistory.ts"
import type { SourceHealth } from "./SourceHealth.ts"
import * as StatusReport from "./StatusReport.ts"
import { MigrationState, StoreHealth } from "./StoreLayer.ts"
import * as SubscriberStatus from "./SubscriberStatus.ts"

export interface AdminOptions {
  /** Required bearer token; none: open (the server then binds a loopback address). */
  readonly token?: Redacted.Redacted<string> | undefined
  /** True once the process is shutting down: `/readyz` then answers 503 so load balancers move on. @default never */
  readonly stopping?: Effect.Effect<boolean> | undefined
  /** The Host headers answered (see `AdminGuards.hostRule`). */
  readonly hosts: Guards.HostRule
  /** Subscribers to report even before their first checkpoint (the config's projections). @default [] */
  readonly subscribers?: ReadonlyArray<string> | undefined
  /**
   * The config's routes: their backlog gauges read 0 before any of their rows is written, and
   * `/api/routes` lists them with their rate limits. @default []
   */
  readonly routes?: ReadonlyArray<Pick<Route, "name" | "rateLimit">> | undefined
  /** The dashboard's delivery rates (sampled by the caller). @default rates since the routes were built */
  readonly rates?: RateHistory.RateHistory | undefined
  /** The dashboard's source ticks. @default none listed */
  readonly sources?: SourceHealth | undefined
  /**
   * The projections started so far, for `/api/projections/:name` (`sluice projection show --admin`).
   * @default none started
   */
  readonly projections?: Effect.Effect<ReadonlyArray<ReadyProjection>> | undefined
}

const { json, query, intParam } = AdminEndpoint
type Request = AdminEndpoint.Request
type Response = AdminEndpoint.Response
type Endpoint = AdminEndpoint.Endpoint

/** The longest `sample_ms` of `GET /api/status`. */
export const maxSampleMs = 60_000

const decodeSegment = (segment: string) => {
  try {
    return decodeURIComponent(segment)
  } catch {
    return segment
  }
}

/** The admin routes, as an HttpRouter layer (one catch-all route; the table below dispatches). */
export const routes = (options: AdminOptions) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const store = yield* OutboxAdmin
      // Dead letters are shown with their event, read from the log.
      const events = yield* EventStore
      // Set where the store was opened by StoreLayer (the runner); a store given otherwise has none.
      const migrations = Option.getOrUndefined(yield* Effect.serviceOption(MigrationState))
      const health = yield* StoreHealth
      const configured = options.routes ?? []
      const refreshBacklogGauges = makeBacklogGauges(
        store,
        configured.map((r) => r.name)
      )
      // Where the store has subscriptions (every store layer of the runner): their checkpoints and lag.
      const subscriptionStore = Option.getOrUndefined(yield* Effect.serviceOption(SubscriptionStore))
      // Raw payloads to list (every store layer of the runner has them).
      const rawStore = Option.getOrUndefined(yield* Effect.serviceOption(RawPayloadStore))
      const subscribers = options.subscribers ?? []
      const rates = options.rates ?? (yield* RateHistory.make(configured.map((r) => r.name)))
      const withSubscriptions = <A>(
        effect: Effect.Effect<A, StoreError, SubscriptionStore>
      ): Effect.Effect<A | undefined, StoreError> =>
        subscriptionStore === undefined
          ? Effect.succeed(undefined)
          : Effect.provideService(effect, SubscriptionStore, subscriptionStore)

      const endpoints: ReadonlyArray<Endpoint> = [
        { path: /^\/healthz$/, open: true, methods: { GET: () => Effect.succeed(json({ status: "ok" })) } },
        {
          path: /^\/readyz$/,
          methods: {
            GET: () =>
              Effect.gen(function* () {
                if (yield* options.stopping ?? Effect.succeed(false)) {
                  return json({ ready: false, database: true, migrations: true, detail: "stopping" }, 503)
                }
                const ready = yield* health.check
                const ok = ready.database && ready.migrations
                return json({ ready: ok, ...ready }, ok ? 200 : 503)
              })
          }
        },
        {
          path: /^\/metrics$/,
          methods: {
            GET: () =>
              Effect.gen(function* () {
                yield* refreshBacklogGauges.pipe(Effect.ignore)
                yield* withSubscriptions(SubscriberStatus.refreshGauges(subscribers)).pipe(Effect.ignore)
                const text = yield* PrometheusMetrics.format()
                return HttpServerResponse.text(text, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
              })
          }
        },
        {
          path: /^\/api\/status$/,
          methods: {
            GET: (request) =>
              Effect.gen(function* () {
                const params = yield* query(request, ["sample_ms"])
                const sampleMs = yield* intParam(params, "sample_ms", 0, maxSampleMs, 0)
                const subscriptions = yield* withSubscriptions(SubscriberStatus.measure(subscribers)).pipe(
                  Effect.orElseSucceed(() => undefined)
                )
                return json(yield* StatusReport.measure(store, Duration.millis(sampleMs), migrations, subscriptions))
              })
          }
        },
        ...AdminOutbox.endpoints(store, events, configured),
        ...AdminInspect.endpoints(events, subscriptionStore, rawStore),
        ...AdminProjections.endpoints(
          { configured: subscribers, started: options.projections ?? Effect.succeed([]) },
          events,
          subscriptionStore
        ),
        // The dashboard: its page and the endpoints only it reads (src/dashboard/).
        ...DashboardPage.endpoints,
        ...DashboardApi.endpoints({
          store,
          routes: configured.map((r) => r.name),
          rates,
          sources: options.sources
        })
      ]

      const dispatch = (request: Request): Effect.Effect<Response> => {
        const refused = Guards.checkHost(request, options.hosts) ?? Guards.checkOrigin(request)
        if (refused !== undefined) return Effect.succeed(refused)
        const path = new URL(request.url, "http://admin").pathname
        for (const endpoint of endpoints) {
          const match = endpoint.path.exec(path)
          if (match === null) continue
          const handler = endpoint.methods[request.method as "GET" | "POST"]
          if (handler === undefined) {
            const allow = Object.keys(endpoint.methods).join(", ")
            return Effect.succeed(
              Guards.error(405, `${request.method} is not allowed on ${path} (allowed: ${allow})`, { allow })
            )
          }
          const refusedHere =
            (endpoint.open === true ? undefined : Guards.checkToken(request, options.token)) ??
            (request.method === "POST" ? Guards.checkMutation(request) : Guards.checkLength(request))
          if (refusedHere !== undefined) return Effect.succeed(refusedHere)
          return handler(request, match.slice(1).map(decodeSegment)).pipe(
            Effect.catchTag("StoreError", (e) => Effect.succeed(json({ error: e.message }, 503))),
            Effect.catch((response) => Effect.succeed(response)),
            Effect.provideService(HttpIncomingMessage.MaxBodySize, ByteSize.bytes(Guards.maxBodyBytes))
          )
        }
        return Effect.succeed(Guards.error(404, `no such endpoint: ${path}`))
      }

      return HttpRouter.add("*", "*", dispatch)
    })
  )
