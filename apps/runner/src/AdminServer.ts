/**
 * Serves the admin routes with Node's HTTP server on `admin.host:admin.port`, for the life of the
 * scope; logs the address it bound (useful with port 0).
 */
import { createServer } from "node:http"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import type { EventStore } from "@sluice/core"
import { Effect, Layer, type Scope } from "effect"
import { HttpRouter, HttpServer, type HttpServerError } from "effect/http"
import * as Admin from "./Admin.ts"
import type { AdminConfig } from "./Config.ts"
import type { StoreHealth } from "./StoreLayer.ts"

/** Starts the server in the current scope and returns its URL. */
export const start = (
  config: AdminConfig,
  stopping: Effect.Effect<boolean> = Effect.succeed(false)
): Effect.Effect<string, HttpServerError.ServeError, EventStore | StoreHealth | Scope.Scope> =>
  Effect.gen(function* () {
    const server = NodeHttpServer.layer(createServer, {
      host: config.host,
      port: config.port,
      gracefulShutdownTimeout: "2 seconds"
    })
    const served = HttpRouter.serve(Admin.routes({ token: config.token, stopping }), {
      disableLogger: true,
      disableListenLog: true
    }).pipe(Layer.provideMerge(server))
    const context = yield* Layer.build(served)
    const address = yield* HttpServer.HttpServer.pipe(Effect.provideContext(context))
    const url = HttpServer.formatAddress(address.address)
    yield* Effect.logInfo("admin server listening", { url, auth: config.token === undefined ? "none" : "bearer" })
    return url
  })
