/**
 * Serves the config's push sources (`@sluice/source-http`, alias `push`): one Node HTTP listener per
 * source on its `host:port`, handing each request to the source's Web-standard handler. The runner
 * speaks plain HTTP: put a TLS-terminating reverse proxy in front of a listener reachable from
 * outside. On shutdown a handler first drains (new requests get 503 + Retry-After), then its
 * listener closes, waiting for requests in flight.
 */
import type { EventStore, Router } from "@sluice/core"
import { makeDecodedPushHandler, type PushEndpoint } from "@sluice/source-http"
import { Data, Effect, type Scope } from "effect"
import { HttpServer } from "effect/http"
import * as NodeWebServer from "./NodeWebServer.ts"

/** A push source could not start: its listener or its secrets. */
export class PushServerError extends Data.TaggedError("PushServerError")<{
  readonly source: string
  readonly reason: string
}> {
  override get message() {
    return `push source ${this.source}: ${this.reason}`
  }
}

/** Starts every endpoint's listener in the current scope; returns their URLs by source name. */
export const start = (
  endpoints: ReadonlyArray<PushEndpoint>,
  router: Router
): Effect.Effect<ReadonlyMap<string, string>, PushServerError, EventStore | Scope.Scope> =>
  Effect.gen(function* () {
    const urls = new Map<string, string>()
    for (const { source, config } of endpoints) {
      const handler = yield* makeDecodedPushHandler({
        name: source.name,
        router,
        config,
        transform: source.transform
      }).pipe(Effect.mapError((error) => new PushServerError({ source: source.name, reason: error.message })))
      const address = yield* NodeWebServer.serveWeb(
        { host: config.host, port: config.port, gracefulShutdownTimeout: "5 seconds" },
        handler.fetch
      ).pipe(
        Effect.mapError((error) => {
          const cause = error.cause as { readonly code?: unknown; readonly message?: unknown }
          const code = typeof cause?.code === "string" ? `${cause.code}: ` : ""
          return new PushServerError({
            source: source.name,
            reason: `cannot listen on ${config.host}:${config.port}: ${code}${String(cause?.message ?? cause)} (set options.port to a free port, 0 picks one)`
          })
        })
      )
      // Finalizers run in reverse: this drain runs before the listener (registered above) closes.
      yield* Effect.addFinalizer(() => handler.drain)
      const url = `${HttpServer.formatAddress(address)}${config.path}`
      urls.set(source.name, url)
      yield* Effect.logInfo("push source listening", { source: source.name, url, auth: config.auth.type })
    }
    return urls
  })
