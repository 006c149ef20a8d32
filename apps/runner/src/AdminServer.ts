/**
 * Serves the admin routes with Node's HTTP server on `admin.host:admin.port`, for the life of the
 * scope; logs the address it bound (useful with port 0). A failure to listen (port taken, no
 * permission, unknown host) is an AdminServerError saying which address and what to change.
 */
import type { EventStore, OutboxAdmin, Route } from "@sluice/core"
import { Data, Effect, Layer, type Scope } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as Admin from "./Admin.ts"
import { hostRule } from "./AdminGuards.ts"
import type { AdminConfig } from "./Config.ts"
import * as NodeWebServer from "./NodeWebServer.ts"
import * as ProcessMetrics from "./ProcessMetrics.ts"
import type { ReadyProjection } from "./Projections.ts"
import * as RateHistory from "./RateHistory.ts"
import type { SourceHealth } from "./SourceHealth.ts"
import type { StoreHealth } from "./StoreLayer.ts"

/** The admin server could not listen on its address (exit code 1). */
export class AdminServerError extends Data.TaggedError("AdminServerError")<{
  readonly address: string
  readonly code: string | undefined
  readonly detail: string
}> {
  override get message() {
    const fix = "set admin.port to a free port (0 picks one), or admin.enabled: false to run without the admin API"
    switch (this.code) {
      case "EADDRINUSE":
        return `admin server: ${this.address} is already in use (another sluice run?): ${fix}`
      case "EACCES":
        return `admin server: no permission to listen on ${this.address} (ports below 1024 need privileges): ${fix}`
      case "EADDRNOTAVAIL":
        return `admin server: ${this.address} is not an address of this machine: set admin.host to one (e.g. 127.0.0.1)`
      case "ENOTFOUND":
      case "EAI_AGAIN":
        return `admin server: cannot resolve the host of ${this.address}: set admin.host to an address of this machine (e.g. 127.0.0.1)`
      default:
        return `admin server: cannot listen on ${this.address}: ${this.detail}`
    }
  }
}

const listenError = (config: AdminConfig) => (cause: unknown) => {
  const error = cause as { readonly code?: unknown; readonly message?: unknown }
  const host = config.host.includes(":") && !config.host.startsWith("[") ? `[${config.host}]` : config.host
  return new AdminServerError({
    address: `${host}:${config.port}`,
    code: typeof error?.code === "string" ? error.code : undefined,
    detail: typeof error?.message === "string" && error.message !== "" ? error.message : String(cause)
  })
}

/** What the runner tells the admin server besides its config. */
export interface AdminServerOptions {
  /** True once the process is shutting down (`/readyz` answers 503). @default never */
  readonly stopping?: Effect.Effect<boolean>
  /** The config's projections: reported before their first checkpoint. @default [] */
  readonly subscribers?: ReadonlyArray<string>
  /** The config's routes: their gauges read 0 before any row is written; `/api/routes` lists them. @default [] */
  readonly routes?: ReadonlyArray<Pick<Route, "name" | "rateLimit">>
  /** The sources' last ticks, for the dashboard. @default none listed */
  readonly sources?: SourceHealth
  /** The projections started so far (`/api/projections/:name`). @default none started */
  readonly projections?: Effect.Effect<ReadonlyArray<ReadyProjection>>
}

/** Starts the server in the current scope and returns its URL. */
export const start = (
  config: AdminConfig,
  {
    stopping = Effect.succeed(false),
    subscribers = [],
    routes: knownRoutes = [],
    sources,
    projections
  }: AdminServerOptions = {}
): Effect.Effect<string, AdminServerError, EventStore | OutboxAdmin | StoreHealth | Scope.Scope> =>
  Effect.gen(function* () {
    const server = yield* Layer.build(
      NodeWebServer.layer({ host: config.host, port: config.port, gracefulShutdownTimeout: "2 seconds" })
    ).pipe(Effect.mapError((e) => listenError(config)(e.cause)))
    const { address } = yield* HttpServer.HttpServer.pipe(Effect.provideContext(server))
    // The bound port (config.port may be 0) is part of every Host header the server answers.
    const port = "port" in address ? address.port : config.port
    // Delivery rates for the dashboard: sampled for the life of the server.
    const rates = yield* RateHistory.make(knownRoutes.map((r) => r.name))
    yield* Effect.forkScoped(rates.run)
    const routes = Admin.routes({
      token: config.token,
      stopping,
      hosts: hostRule(config.host, port, config.allowedHosts),
      subscribers,
      routes: knownRoutes,
      rates,
      sources,
      projections
    })
    yield* Layer.build(
      HttpRouter.serve(routes, { disableLogger: true, disableListenLog: true }).pipe(
        Layer.provide(Layer.succeedContext(server))
      )
    )
    yield* ProcessMetrics.register
    const url = HttpServer.formatAddress(address)
    yield* Effect.logInfo("admin server listening", { url, auth: config.token === undefined ? "none" : "bearer" })
    return url
  })
