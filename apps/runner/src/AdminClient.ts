/**
 * The client side of the admin API, for `sluice status --admin URL` and `sluice dlq ... --admin
 * URL`: the commands ask a running `sluice run` instead of opening the store (the embedded store
 * belongs to that process). Each call answers what the local command computes (the same report,
 * page, dead letter, count), so the commands print the same either way.
 */
import { Data, Duration, Effect, Option, type Redacted, Schema } from "effect"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "effect/http"
import { maxPageSize } from "./AdminOutbox.ts"
import * as DeadLetters from "./DeadLetters.ts"
import * as Inspect from "./Inspect.ts"
import { ProjectionReport } from "./ProjectionReport.ts"
import * as RouteControl from "./RouteControl.ts"
import { StatusReport } from "./StatusReport.ts"
import { UnknownProjectionError } from "./UnknownProjection.ts"

/** Where the running process's admin API is, and its bearer token. */
export interface Target {
  readonly url: string
  readonly token: Option.Option<Redacted.Redacted<string>>
}

/** The admin API could not be reached, refused the request or answered something unexpected (exit code 1). */
export class AdminClientError extends Data.TaggedError("AdminClientError")<{
  readonly url: string
  readonly reason: string
}> {
  override get message() {
    return `admin API at ${this.url}: ${this.reason}`
  }
}

const networkReason = (cause: unknown): string => {
  const inner = (cause as { readonly cause?: { readonly code?: unknown; readonly message?: unknown } })?.cause
  if (typeof inner?.code === "string") return inner.code
  if (typeof inner?.message === "string") return inner.message
  return cause instanceof Error ? cause.message : String(cause)
}

/** Sends `request` (path relative to the target), returns the status and the JSON body. */
const call = (target: Target, method: "GET" | "POST", path: string, body?: unknown) =>
  Effect.gen(function* () {
    const client = yield* HttpClient.HttpClient
    const url = `${target.url.replace(/\/+$/, "")}${path}`
    const fail = (reason: string) => new AdminClientError({ url: target.url, reason })
    let request = (method === "GET" ? HttpClientRequest.get(url) : HttpClientRequest.post(url)).pipe(
      HttpClientRequest.acceptJson
    )
    if (Option.isSome(target.token)) request = HttpClientRequest.bearerToken(request, target.token.value)
    if (body !== undefined) request = HttpClientRequest.bodyJsonUnsafe(request, body)
    const response = yield* client
      .execute(request)
      .pipe(
        Effect.mapError((e) =>
          fail(
            `cannot reach it (${networkReason(e.reason.cause)}): is \`sluice run\` up, with the admin API on that address?`
          )
        )
      )
    const json = yield* response.json.pipe(
      Effect.mapError(() => fail(`answered ${response.status} without a JSON body: is this a sluice admin API?`))
    )
    const message =
      typeof json === "object" && json !== null && "error" in json && typeof json.error === "string"
        ? json.error
        : undefined
    if (response.status === 401) {
      return yield* fail(
        Option.isSome(target.token)
          ? "the token was refused (401): give the running process's admin.token with --token or SLUICE_ADMIN_TOKEN"
          : "a bearer token is required (401): give the running process's admin.token with --token or SLUICE_ADMIN_TOKEN"
      )
    }
    return { status: response.status, json, message, fail }
  }).pipe(Effect.provide(FetchHttpClient.layer))

const decode = <S extends Schema.Top & { readonly DecodingServices: never }>(
  schema: S,
  answer: { readonly json: unknown; readonly fail: (reason: string) => AdminClientError }
) =>
  Schema.decodeUnknownEffect(schema)(answer.json).pipe(
    Effect.mapError((e) => answer.fail(`unexpected answer: ${e.message.replace(/\n\s*/g, " ")}`))
  )

const expect = (
  answer: {
    readonly status: number
    readonly message: string | undefined
    readonly fail: (r: string) => AdminClientError
  },
  ok: number
) =>
  answer.status === ok
    ? Effect.void
    : Effect.fail(answer.fail(`${answer.status}${answer.message === undefined ? "" : `: ${answer.message}`}`))

/** `GET /api/status`: the status report, sampled over `sample` by the running process. */
export const status = (target: Target, sample: Duration.Duration) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "GET", `/api/status?sample_ms=${Math.round(Duration.toMillis(sample))}`)
    yield* expect(answer, 200)
    return yield* decode(StatusReport, answer)
  })

/** `GET /api/dead-letters`, page after page until `limit` rows or the last one. */
export const list = (target: Target, options: { readonly route: Option.Option<string>; readonly limit: number }) =>
  Effect.gen(function* () {
    const rows: Array<DeadLetters.DeadLetter> = []
    let after: string | null = null
    do {
      const params = new URLSearchParams({ limit: String(Math.min(maxPageSize, options.limit - rows.length)) })
      if (Option.isSome(options.route)) params.set("route", options.route.value)
      if (after !== null) params.set("after", after)
      const answer = yield* call(target, "GET", `/api/dead-letters?${params}`)
      yield* expect(answer, 200)
      const page: DeadLetters.Page = yield* decode(DeadLetters.Page, answer)
      rows.push(...page.dead_letters)
      after = page.next_after
    } while (after !== null && rows.length < options.limit)
    return DeadLetters.toPage(rows, options.limit)
  })

/** `GET /api/dead-letters/:id`: the dead letter with its event, or none. */
export const show = (target: Target, id: string) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "GET", `/api/dead-letters/${encodeURIComponent(id)}`)
    if (answer.status === 404) return Option.none<unknown>()
    yield* expect(answer, 200)
    return Option.some(answer.json as unknown)
  })

const Purged = Schema.Struct({ purged: Schema.Number })

/** `POST /api/dead-letters/replay` (no filter: all): what was replayed, and the ids that are not dead letters. */
export const replay = (target: Target, filter: DeadLetters.ReplayFilter) =>
  Effect.gen(function* () {
    const body = {
      ...(filter.ids.length > 0 ? { ids: filter.ids } : {}),
      ...(filter.route === undefined ? {} : { route: filter.route }),
      ...(filter.eventType === undefined ? {} : { event_type: filter.eventType })
    }
    const answer = yield* call(
      target,
      "POST",
      "/api/dead-letters/replay",
      Object.keys(body).length === 0 ? { all: true } : body
    )
    yield* expect(answer, 200)
    return yield* decode(DeadLetters.Replayed, answer)
  })

/** `POST /api/dead-letters/purge`: how many dead letters were deleted. */
export const purge = (target: Target, route: Option.Option<string>) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "POST", "/api/dead-letters/purge", {
      ...(Option.isSome(route) ? { route: route.value } : {}),
      confirm: true
    })
    yield* expect(answer, 200)
    return (yield* decode(Purged, answer)).purged
  })

/** `GET /api/routes`: the routes' state as the running process sees it. */
export const routes = (target: Target) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "GET", "/api/routes")
    yield* expect(answer, 200)
    return yield* decode(RouteControl.RouteStates, answer)
  })

/** `POST /api/routes/:route/pause` or `/resume`. */
export const toggleRoute = (target: Target, action: "pause" | "resume", route: string, reason: string | undefined) =>
  Effect.gen(function* () {
    const answer = yield* call(
      target,
      "POST",
      `/api/routes/${encodeURIComponent(route)}/${action}`,
      reason === undefined ? {} : { reason }
    )
    yield* expect(answer, 200)
    return yield* decode(RouteControl.Toggled, answer)
  })

/** `GET /api/events/:id`: the stored event, or none. */
export const event = (target: Target, id: string) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "GET", `/api/events/${encodeURIComponent(id)}`)
    if (answer.status === 404) return Option.none<Inspect.ShownEvent>()
    yield* expect(answer, 200)
    return Option.some(yield* decode(Inspect.ShownEvent, answer))
  })

/** `GET /api/events`: one page of a tail. */
export const tail = (
  target: Target,
  options: Inspect.EventFilter & { readonly after?: string | undefined; readonly last: number }
) =>
  Effect.gen(function* () {
    const params = new URLSearchParams({ last: String(options.last) })
    if (options.after !== undefined) params.set("after", options.after)
    if (options.type !== undefined) params.set("type", options.type)
    if (options.entity !== undefined) params.set("entity", options.entity)
    const answer = yield* call(target, "GET", `/api/events?${params}`)
    yield* expect(answer, 200)
    return yield* decode(Inspect.TailPage, answer)
  })

/** `GET /api/raw/:id`: the raw payload, or none. */
export const raw = (target: Target, id: string) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "GET", `/api/raw/${encodeURIComponent(id)}`)
    if (answer.status === 404) return Option.none<unknown>()
    yield* expect(answer, 200)
    return Option.some(answer.json as unknown)
  })

/** `GET /api/raw`: one page of raw payloads. */
export const rawList = (
  target: Target,
  options: {
    readonly source?: string | undefined
    readonly failed: boolean
    readonly after?: string | undefined
    readonly limit: number
  }
) =>
  Effect.gen(function* () {
    const params = new URLSearchParams({ limit: String(options.limit), failed: String(options.failed) })
    if (options.source !== undefined) params.set("source", options.source)
    if (options.after !== undefined) params.set("after", options.after)
    const answer = yield* call(target, "GET", `/api/raw?${params}`)
    yield* expect(answer, 200)
    return yield* decode(Inspect.RawListPage, answer)
  })

/** `GET /api/projections/:name`: the projection's report, with at most `limit` rows per table. */
export const projection = (target: Target, name: string, limit: number) =>
  Effect.gen(function* () {
    const answer = yield* call(target, "GET", `/api/projections/${encodeURIComponent(name)}?limit=${limit}`)
    // Not a projection of the running config: the usage error the config file would give.
    const known = (answer.json as { readonly projections?: unknown } | null)?.projections
    if (answer.status === 404 && Array.isArray(known))
      return yield* new UnknownProjectionError({
        name,
        where: `at the admin API ${target.url}`,
        known: known.filter((k): k is string => typeof k === "string")
      })
    yield* expect(answer, 200)
    return yield* decode(ProjectionReport, answer)
  })
