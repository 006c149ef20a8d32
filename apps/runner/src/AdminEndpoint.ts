/**
 * What one admin endpoint is, shared by the admin API's table (Admin.ts) and the tables of other
 * files that add endpoints to it (the dashboard's): a path, a handler per method, and whether it
 * is served without the token.
 */
import type { StoreError } from "@sluice/core"
import type { Effect } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"

export type Response = HttpServerResponse.HttpServerResponse
export type Request = HttpServerRequest.HttpServerRequest

/** A handler fails with the response that refuses the request (400...), or with a StoreError (503). */
export type Handler = (
  request: Request,
  params: ReadonlyArray<string>
) => Effect.Effect<Response, Response | StoreError>

export interface Endpoint {
  /** Matched against the decoded path; its groups are the handler's `params`. */
  readonly path: RegExp
  readonly methods: Partial<Record<"GET" | "POST", Handler>>
  /** No token needed. */
  readonly open?: boolean
}

/** A JSON answer. */
export const json = (body: unknown, status = 200) => HttpServerResponse.jsonUnsafe(body, { status })
