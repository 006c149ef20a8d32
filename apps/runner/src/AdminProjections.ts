/**
 * The admin API's view of the running projections: `GET /api/projections/:name?limit=N`, the
 * report `sluice projection show NAME` prints (ProjectionReport.ts), measured by the running
 * process, whose projections hold the read model's connection (an embedded store's is its alone).
 */
import { EventStore, SubscriptionStore } from "@sluice/core"
import { Effect } from "effect"
import { type Endpoint, intParam, json, query } from "./AdminEndpoint.ts"
import * as Guards from "./AdminGuards.ts"
import * as ProjectionReport from "./ProjectionReport.ts"
import type { ReadyProjection } from "./Projections.ts"

export interface ProjectionsView {
  /** The config's projections, by name. */
  readonly configured: ReadonlyArray<string>
  /** The projections started so far (they start after the admin server). */
  readonly started: Effect.Effect<ReadonlyArray<ReadyProjection>>
}

export const endpoints = (
  view: ProjectionsView,
  events: EventStore["Service"],
  subscriptions: SubscriptionStore["Service"] | undefined
): ReadonlyArray<Endpoint> => [
  {
    path: /^\/api\/projections\/([^/]+)$/,
    methods: {
      GET: (request, [name = ""]) =>
        Effect.gen(function* () {
          const params = yield* query(request, ["limit"])
          const limit = yield* intParam(
            params,
            "limit",
            1,
            ProjectionReport.maxShowLimit,
            ProjectionReport.defaultShowLimit
          )
          if (!view.configured.includes(name)) {
            const known = view.configured.join(", ") || "none"
            return json(
              {
                error: `no projection named ${JSON.stringify(name)} (its projections: ${known})`,
                projections: view.configured
              },
              404
            )
          }
          const ready = (yield* view.started).find((p) => p.name === name)
          if (ready === undefined || subscriptions === undefined)
            return Guards.error(503, `projection ${name} is not started yet: try again shortly`)
          return yield* ProjectionReport.measure(ready, limit).pipe(
            Effect.map((report) => json(report)),
            Effect.catchTag("ReadModelError", (error) => Effect.succeed(Guards.error(500, error.message))),
            Effect.provideService(EventStore, events),
            Effect.provideService(SubscriptionStore, subscriptions)
          )
        })
    }
  }
]
