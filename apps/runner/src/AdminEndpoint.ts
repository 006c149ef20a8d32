/**
 * What the admin API's endpoints are made of: the endpoint table's shape, JSON answers, and the
 * checked reading of query parameters and bodies (every refusal a 400 naming what to change).
 */
import type { StoreError } from "@sluice/core"
import { Effect, Schema } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import * as Guards from "./AdminGuards.ts"

export type Response = HttpServerResponse.HttpServerResponse
export type Request = HttpServerRequest.HttpServerRequest
/** A handler fails with the response that refuses the request (400...), or with a StoreError (503). */
export type Handler = (
  request: Request,
  params: ReadonlyArray<string>
) => Effect.Effect<Response, Response | StoreError>

export interface Endpoint {
  readonly path: RegExp
  readonly methods: Partial<Record<"GET" | "POST", Handler>>
  /** No token needed. */
  readonly open?: boolean
}

export const json = (body: unknown, status = 200) => HttpServerResponse.jsonUnsafe(body, { status })

// Not HttpServerRequest.schemaSearchParams: its refusal is Schema's multi-line issue, these are one
// line naming the parameter and what it takes, which `sluice ... --admin` prints as they are.
export const query = (request: Request, known: ReadonlyArray<string>) => {
  const params = new URL(request.url, "http://admin").searchParams
  for (const key of params.keys()) {
    if (!known.includes(key)) {
      return Effect.fail(
        Guards.error(
          400,
          `unknown query parameter ${JSON.stringify(key)} (known: ${known.length === 0 ? "none" : known.join(", ")})`
        )
      )
    }
  }
  return Effect.succeed(params)
}

export const intParam = (params: URLSearchParams, name: string, min: number, max: number, fallback: number) => {
  const raw = params.get(name)
  if (raw === null) return Effect.succeed(fallback)
  const value = /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN
  return value >= min && value <= max
    ? Effect.succeed(value)
    : Effect.fail(Guards.error(400, `${name}: expected an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`))
}

export const textParam = (params: URLSearchParams, name: string, pattern: RegExp, expected: string) => {
  const raw = params.get(name)
  if (raw === null) return Effect.succeed(undefined)
  return pattern.test(raw)
    ? Effect.succeed(raw)
    : Effect.fail(Guards.error(400, `${name}: expected ${expected}, got ${JSON.stringify(raw)}`))
}

/** The body decoded with `schema` (unknown fields refused); an empty body reads as `{}`. */
export const body = <A>(request: Request, schema: Schema.Decoder<A>) =>
  request.text.pipe(
    Effect.mapError((e) =>
      e.reason._tag === "RequestParseError" && e.reason.reason === "BodyTooLarge"
        ? Guards.tooLarge()
        : Guards.error(400, "cannot read the request body")
    ),
    Effect.flatMap((text) =>
      Effect.try({
        try: (): unknown => (text.trim() === "" ? {} : JSON.parse(text)),
        catch: (e) => Guards.error(400, `request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`)
      })
    ),
    Effect.flatMap((value) =>
      Schema.decodeUnknownEffect(schema)(value, { onExcessProperty: "error", errors: "all" }).pipe(
        Effect.mapError((e) => Guards.error(400, `invalid request body: ${e.message.replace(/\n\s*/g, " ")}`))
      )
    )
  )
