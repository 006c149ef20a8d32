/**
 * The admin HTTP API: `/healthz` (the process is up), `/readyz` (database reachable, migrations
 * applied), `/metrics` (Prometheus text) and `/api/dead-letters` (list, show, replay). When a
 * token is configured every endpoint but `/healthz` needs `Authorization: Bearer <token>`.
 * Routes are platform-neutral; `AdminServer.ts` serves them with Node.
 */
import { timingSafeEqual } from "node:crypto"
import { EventStore, type OutboxId, type StoreError } from "@sluice/core"
import { Effect, Layer, Option, Redacted, Schema } from "effect"
import { HttpRouter, type HttpServerRequest, HttpServerResponse } from "effect/http"
import { PrometheusMetrics } from "effect/observability"
import { makeBacklogGauges } from "./BacklogMetrics.ts"
import * as DeadLetters from "./DeadLetters.ts"
import { StoreHealth } from "./StoreLayer.ts"

export interface AdminOptions {
  /** Required bearer token; none: open (the server then binds a loopback address). */
  readonly token?: Redacted.Redacted<string> | undefined
  /** True once the process is shutting down: `/readyz` then answers 503 so load balancers move on. @default never */
  readonly stopping?: Effect.Effect<boolean> | undefined
}

const json = (body: unknown, status = 200) => HttpServerResponse.jsonUnsafe(body, { status })

const authorized = (request: HttpServerRequest.HttpServerRequest, token: Redacted.Redacted<string> | undefined) => {
  if (token === undefined) return true
  const header = request.headers.authorization ?? ""
  const given = Buffer.from(header.startsWith("Bearer ") ? header.slice(7) : "")
  const expected = Buffer.from(Redacted.value(token))
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const storeFailure = (error: StoreError) => Effect.succeed(json({ error: error.message }, 503))

const ReplayBody = Schema.Struct({
  ids: Schema.optionalKey(Schema.Array(Schema.String.pipe(Schema.check(Schema.isPattern(/^\d+$/))))),
  route: Schema.optionalKey(Schema.String),
  event_type: Schema.optionalKey(Schema.String),
  all: Schema.optionalKey(Schema.Boolean)
})

/** The admin routes, as an HttpRouter layer. */
export const routes = (options: AdminOptions) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const store = yield* EventStore
      const health = yield* StoreHealth
      const refreshBacklogGauges = makeBacklogGauges(store)
      const guard =
        <E, R>(
          handler: (
            request: HttpServerRequest.HttpServerRequest
          ) => Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
        ) =>
        (request: HttpServerRequest.HttpServerRequest) =>
          authorized(request, options.token)
            ? handler(request)
            : Effect.succeed(
                HttpServerResponse.jsonUnsafe(
                  { error: "missing or wrong bearer token" },
                  { status: 401, headers: { "www-authenticate": 'Bearer realm="sluice"' } }
                )
              )
      const query = (request: HttpServerRequest.HttpServerRequest) => new URL(request.url, "http://admin").searchParams

      return Layer.mergeAll(
        HttpRouter.add("GET", "/healthz", json({ status: "ok" })),
        HttpRouter.add(
          "GET",
          "/readyz",
          guard(() =>
            Effect.gen(function* () {
              if (yield* options.stopping ?? Effect.succeed(false)) {
                return json({ ready: false, database: true, migrations: true, detail: "stopping" }, 503)
              }
              const ready = yield* health.check
              const ok = ready.database && ready.migrations
              return json({ ready: ok, ...ready }, ok ? 200 : 503)
            })
          )
        ),
        HttpRouter.add(
          "GET",
          "/metrics",
          guard(() =>
            Effect.gen(function* () {
              yield* refreshBacklogGauges.pipe(Effect.ignore)
              const body = yield* PrometheusMetrics.format()
              return HttpServerResponse.text(body, { contentType: "text/plain; version=0.0.4; charset=utf-8" })
            })
          )
        ),
        HttpRouter.add(
          "GET",
          "/api/dead-letters",
          guard((request) => {
            const params = query(request)
            const limit = Number(params.get("limit") ?? "100")
            const route = params.get("route")
            const after = params.get("after")
            return store
              .listOutbox({
                status: "dead",
                limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1000) : 100,
                ...(route === null ? {} : { route }),
                ...(after === null ? {} : { after: after as OutboxId })
              })
              .pipe(
                Effect.map((entries) => json({ dead_letters: entries.map(DeadLetters.toJson) })),
                Effect.catchTag("StoreError", storeFailure)
              )
          })
        ),
        HttpRouter.add(
          "GET",
          "/api/dead-letters/:id",
          guard(() =>
            Effect.gen(function* () {
              const { id } = yield* HttpRouter.params
              const found = yield* DeadLetters.show(store, id ?? "")
              if (Option.isNone(found)) return json({ error: `no dead letter ${id}` }, 404)
              return json(found.value)
            }).pipe(Effect.catchTag("StoreError", storeFailure))
          )
        ),
        HttpRouter.add(
          "POST",
          "/api/dead-letters/:id/replay",
          guard(() =>
            Effect.gen(function* () {
              const { id } = yield* HttpRouter.params
              const replayed = yield* store.replay({ outbox_ids: [(id ?? "") as OutboxId] })
              return json({ replayed }, replayed === 0 ? 404 : 200)
            }).pipe(Effect.catchTag("StoreError", storeFailure))
          )
        ),
        HttpRouter.add(
          "POST",
          "/api/dead-letters/replay",
          guard((request) =>
            Effect.gen(function* () {
              const body = yield* Effect.flatMap(request.json, Schema.decodeUnknownEffect(ReplayBody))
              const filter = {
                ...(body.ids === undefined ? {} : { outbox_ids: body.ids as ReadonlyArray<OutboxId> }),
                ...(body.route === undefined ? {} : { route: body.route }),
                ...(body.event_type === undefined ? {} : { event_type: body.event_type })
              }
              if (Object.keys(filter).length === 0 && body.all !== true) {
                return json({ error: "give ids, route or event_type, or all: true" }, 400)
              }
              return json({ replayed: yield* store.replay(filter) })
            }).pipe(
              Effect.catchTag("StoreError", storeFailure),
              Effect.catch((error) => Effect.succeed(json({ error: error.message }, 400)))
            )
          )
        )
      )
    })
  )
