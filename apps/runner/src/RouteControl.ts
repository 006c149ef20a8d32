/**
 * Pausing and resuming routes (`sluice routes`, the admin API's `/api/routes`): a paused route's rows
 * are claimed by no relay of any process until it is resumed (the pause is stored: core's
 * OutboxAdmin.pauseRoute). The state of a route is what the store says, with the config's rate limit.
 */
import type { OutboxAdmin, Route, StoreError } from "@sluice/core"
import { Console, DateTime, Effect, Schema } from "effect"

/** One route as `routes list` prints it and `GET /api/routes` answers. */
export const RouteState = Schema.Struct({
  route: Schema.String,
  paused: Schema.Boolean,
  paused_at: Schema.NullOr(Schema.String),
  reason: Schema.NullOr(Schema.String),
  /** The config's `rateLimit` (events/s per relay process), where the config has the route. */
  rate_limit_per_s: Schema.NullOr(Schema.Number)
})
export type RouteState = typeof RouteState.Type
export const RouteStates = Schema.Array(RouteState)

/** What a pause or resume did: `changed` is false when the route already was in that state. */
export const Toggled = Schema.Struct({ route: Schema.String, paused: Schema.Boolean, changed: Schema.Boolean })
export type Toggled = typeof Toggled.Type

/** A route name as the config allows it (core's Route.name). */
export const isRouteName = (name: string): boolean => /^[A-Za-z0-9_.-]{1,100}$/.test(name)

/** The config's routes and every paused one (a route of another process's config may be paused). */
export const states = (
  store: OutboxAdmin["Service"],
  configured: ReadonlyArray<Pick<Route, "name" | "rateLimit">>
): Effect.Effect<ReadonlyArray<RouteState>, StoreError> =>
  Effect.map(store.pausedRoutes, (paused) => {
    const byName = new Map(paused.map((p) => [p.route, p] as const))
    const names = [...new Set([...configured.map((r) => r.name), ...byName.keys()])].sort()
    return names.map((route) => {
      const pause = byName.get(route)
      return {
        route,
        paused: pause !== undefined,
        paused_at: pause === undefined ? null : DateTime.formatIso(pause.paused_at),
        reason: pause?.reason ?? null,
        rate_limit_per_s: configured.find((r) => r.name === route)?.rateLimit ?? null
      }
    })
  })

export const pause = (store: OutboxAdmin["Service"], route: string, reason: string | undefined) =>
  Effect.map(store.pauseRoute(route, reason), (changed): Toggled => ({ route, paused: true, changed }))

export const resume = (store: OutboxAdmin["Service"], route: string) =>
  Effect.map(store.resumeRoute(route), (changed): Toggled => ({ route, paused: false, changed }))

export const printStates = (routes: ReadonlyArray<RouteState>, json: boolean) =>
  json
    ? Console.log(JSON.stringify(routes, null, 2))
    : Console.log(
        routes.length === 0
          ? "no routes"
          : routes
              .map((r) =>
                [
                  r.route,
                  r.paused ? `paused since ${r.paused_at}${r.reason === null ? "" : ` (${r.reason})`}` : "running",
                  r.rate_limit_per_s === null ? "" : `at most ${r.rate_limit_per_s}/s per relay`
                ]
                  .filter((part) => part !== "")
                  .join("  ")
              )
              .join("\n")
      )

export const printToggled = (result: Toggled) =>
  Console.log(
    result.paused
      ? result.changed
        ? `paused ${result.route}: no relay claims its rows until \`sluice routes resume ${result.route}\``
        : `${result.route} was already paused`
      : result.changed
        ? `resumed ${result.route}`
        : `${result.route} was not paused`
  )
