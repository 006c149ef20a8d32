/**
 * The admin API's read-only view of the store (Inspect.ts): `GET /api/events/:id`, `GET /api/events`
 * (a tail page), `GET /api/raw/:id` and `GET /api/raw` (pages of raw payloads, `failed=true` for the
 * unresolved transform failures). What `sluice events` and `sluice raw` print with `--admin`.
 */
import { EventId, type EventStore, RawPayloadId, RawPayloadStore, type SubscriptionStore } from "@sluice/core"
import { Effect, Option, Schema } from "effect"
import { type Endpoint, intParam, json, query, textParam } from "./AdminEndpoint.ts"
import * as Guards from "./AdminGuards.ts"
import * as Inspect from "./Inspect.ts"

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const isEventId = Schema.is(EventId)
const isRawId = Schema.is(RawPayloadId)
/** The most raw payloads one `GET /api/raw` answers. */
export const maxRawPage = 500

export const endpoints = (
  events: EventStore["Service"],
  subscriptions: SubscriptionStore["Service"] | undefined,
  raws: RawPayloadStore["Service"] | undefined
): ReadonlyArray<Endpoint> => [
  {
    path: /^\/api\/events$/,
    methods: {
      GET: (request) =>
        Effect.gen(function* () {
          const params = yield* query(request, ["after", "last", "type", "entity"])
          if (subscriptions === undefined) return Guards.error(404, "this store has no log to follow")
          const afterText = yield* textParam(params, "after", /^\d{1,19}\/\d{1,19}$/, "transaction/position")
          const last = yield* intParam(params, "last", 0, Inspect.maxTailRead, 10)
          const type = yield* textParam(params, "type", /^[A-Za-z0-9_*.-]{1,200}$/, "an event type pattern")
          const entity = yield* textParam(params, "entity", /^.{1,200}$/, "an entity id")
          const after = afterText === undefined ? undefined : Inspect.parseAfter(afterText)
          return json(yield* Inspect.tail(events, subscriptions, { after, last, type, entity }))
        })
    }
  },
  {
    path: /^\/api\/events\/([^/]+)$/,
    methods: {
      GET: (request, [id = ""]) =>
        Effect.gen(function* () {
          yield* query(request, [])
          if (!isEventId(id)) return Guards.error(400, `not an event id (a lower-case UUID): ${JSON.stringify(id)}`)
          const found = yield* events.getEvent(id)
          if (Option.isNone(found)) return Guards.error(404, `no event with id ${id}`)
          return json(Inspect.showEvent(found.value))
        })
    }
  },
  {
    path: /^\/api\/raw$/,
    methods: {
      GET: (request) =>
        Effect.gen(function* () {
          const params = yield* query(request, ["source", "failed", "after", "limit"])
          if (raws === undefined) return Guards.error(404, "this store keeps no raw payloads to list")
          const source = yield* textParam(params, "source", /^.{1,200}$/, "a source name")
          const failed = yield* textParam(params, "failed", /^(true|false)$/, "true or false")
          const after = yield* textParam(params, "after", uuid, "a raw payload id")
          const limit = yield* intParam(params, "limit", 1, maxRawPage, 100)
          return json(
            yield* Inspect.listRaw({ source, failed: failed === "true", after, limit }).pipe(
              Effect.provideService(RawPayloadStore, raws)
            )
          )
        })
    }
  },
  {
    path: /^\/api\/raw\/([^/]+)$/,
    methods: {
      GET: (request, [id = ""]) =>
        Effect.gen(function* () {
          yield* query(request, [])
          if (!isRawId(id)) return Guards.error(400, `not a raw payload id (a UUID): ${JSON.stringify(id)}`)
          const found = yield* events.getRaw(id)
          if (Option.isNone(found)) return Guards.error(404, `no raw payload with id ${id}`)
          return json(Inspect.showRaw(found.value))
        })
    }
  }
]
