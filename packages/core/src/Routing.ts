/**
 * Routing: which routes (a transport and a topic) an event goes to, chosen by its event type.
 *
 * Patterns are dot-separated like event types: `*` matches exactly one segment and `**` any number
 * of segments (including none), so `quote.*` matches `quote.updated` and `**` matches everything.
 */
import { Data, Effect, Schema } from "effect"
import type { Event } from "./Event.ts"
import type { OutboxDraft } from "./EventStore.ts"

/** A route: events whose type matches one of `match` get an outbox row for this route. */
export const Route = Schema.Struct({
  /** Unique route name; it is what outbox rows and dead letters refer to. */
  name: Schema.String.pipe(Schema.check(Schema.isPattern(/^[A-Za-z0-9_.-]+$/), Schema.isMaxLength(100))),
  /** Name of the transport that publishes this route's rows. */
  transport: Schema.String.pipe(Schema.check(Schema.isNonEmpty())),
  /** Topic handed to the transport (a subject, a path suffix...). */
  topic: Schema.String,
  /** Event type patterns. */
  match: Schema.Array(
    Schema.String.pipe(
      Schema.check(
        Schema.isPattern(/^(\*\*|\*|[A-Za-z0-9_-]+)(\.(\*\*|\*|[A-Za-z0-9_-]+))*$/, {
          expected: "a dotted pattern such as quote.* or **"
        })
      )
    )
  ).pipe(Schema.check(Schema.isMinLength(1))),
  /**
   * Per-entity ordering: an entity's later events on this route wait until its earlier ones are
   * delivered or dead. @default false
   */
  ordered: Schema.optionalKey(Schema.Boolean),
  /**
   * What the relay publishes: the event as stored, or upcast to its type's latest version by the
   * registered Upcasters (Upcasters.ts). A row whose upcast fails is dead-lettered with the reason.
   * @default "stored"
   */
  publish: Schema.optionalKey(Schema.Literals(["stored", "latest"])),
  /**
   * Most events per second the relay publishes on this route, for a fragile receiver: a limit per
   * relay (each process running `Relay.start` keeps its own), with bursts of up to one second's
   * worth. @default none (as fast as the relay goes)
   */
  rateLimit: Schema.optionalKey(
    Schema.Number.pipe(Schema.check(Schema.isFinite(), Schema.isBetween({ minimum: 0.001, maximum: 1_000_000 })))
  )
})
export type Route = typeof Route.Type

const matchSegments = (pattern: ReadonlyArray<string>, type: ReadonlyArray<string>, p = 0, t = 0): boolean => {
  if (p === pattern.length) return t === type.length
  const head = pattern[p]
  if (head === "**") {
    for (let skip = t; skip <= type.length; skip++) if (matchSegments(pattern, type, p + 1, skip)) return true
    return false
  }
  if (t === type.length) return false
  return (head === "*" || head === type[t]) && matchSegments(pattern, type, p + 1, t + 1)
}

/** True when `eventType` matches `pattern`. */
export const matches = (pattern: string, eventType: string): boolean =>
  matchSegments(pattern.split("."), eventType.split("."))

/** A routing table: answers which routes an event goes to. */
export interface Router {
  readonly routes: ReadonlyArray<Route>
  readonly routesFor: (event: Event) => ReadonlyArray<Route>
}

/** Two routes share a name: outbox rows could not tell them apart. */
export class DuplicateRouteError extends Data.TaggedError("DuplicateRouteError")<{ readonly route: string }> {
  override get message() {
    return `two routes are named ${JSON.stringify(this.route)}; route names must be unique`
  }
}

/** Builds a router; results are cached per event type because a source emits few distinct types. */
export const makeRouter = (routes: ReadonlyArray<Route>): Effect.Effect<Router, DuplicateRouteError> => {
  const names = new Set<string>()
  for (const route of routes) {
    if (names.has(route.name)) return Effect.fail(new DuplicateRouteError({ route: route.name }))
    names.add(route.name)
  }
  return Effect.succeed(makeRouterUnsafe(routes))
}

/** Like `makeRouter`, without the uniqueness check (for routes already validated). */
export const makeRouterUnsafe = (routes: ReadonlyArray<Route>): Router => {
  const cache = new Map<string, ReadonlyArray<Route>>()
  return {
    routes,
    routesFor: (event) => {
      let hit = cache.get(event.event_type)
      if (hit === undefined) {
        hit = routes.filter((route) => route.match.some((pattern) => matches(pattern, event.event_type)))
        cache.set(event.event_type, hit)
      }
      return hit
    }
  }
}

/**
 * The outbox rows of `events`: one per (event, route it matches), ordered routes keyed by entity
 * (`entity_type:entity_id`). Ingestion and command handling both route this way.
 */
export const outboxDrafts = (router: Router, events: ReadonlyArray<Event>): ReadonlyArray<OutboxDraft> => {
  const drafts: Array<OutboxDraft> = []
  for (const event of events) {
    for (const route of router.routesFor(event)) {
      drafts.push({
        event_id: event.event_id,
        route: route.name,
        topic: route.topic,
        ordering_key: route.ordered === true ? `${event.entity_type}:${event.entity_id}` : null
      })
    }
  }
  return drafts
}
