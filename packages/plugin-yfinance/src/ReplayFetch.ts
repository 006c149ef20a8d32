/**
 * A `fetch` that answers from recorded Yahoo Finance exchanges, so yahoo-finance2's real code
 * (URL building, the cookie/consent/crumb handshake, error mapping) runs without a network.
 * Runtime-agnostic: it only uses the WHATWG `Request`/`Response`/`Headers` globals.
 */
import type { FetchFn } from "./YahooFetch.ts"

/** One recorded HTTP exchange, in the format of yahoo-finance2's own test fixtures. */
export interface Recording {
  readonly request: { readonly url: string; readonly method?: string }
  readonly response: {
    readonly status: number
    readonly statusText?: string
    readonly headers?: Readonly<Record<string, string | ReadonlyArray<string>>>
    readonly bodyJson?: unknown
    readonly bodyText?: string
  }
}

/** A request the replaying fetch saw, for assertions. */
export interface ReplayedCall {
  readonly method: string
  readonly url: string
  /** The recording's index, or `undefined` when `fallback` (or the default 404) answered. */
  readonly recording: number | undefined
}

export interface ReplayFetch {
  readonly fetch: FetchFn
  /** Every request seen, in order. */
  readonly calls: ReadonlyArray<ReplayedCall>
}

export interface ReplayOptions {
  /**
   * Consulted before the recordings: return a Response (or a promise of one) to answer with it,
   * throw or reject to simulate a network failure, or return `undefined` to use the recordings.
   */
  readonly intercept?: (request: {
    readonly method: string
    readonly url: URL
    readonly signal: AbortSignal | undefined
  }) => Response | Promise<Response> | undefined
}

/** Query parameters that differ between recordings of the same request (session secrets). */
const VOLATILE_PARAMS = new Set(["crumb", "gcrumb"])

/**
 * Method + URL with its query parameters sorted and without `crumb`/`gcrumb`: two requests for
 * the same data get the same key, whatever session they ran in.
 */
export const requestKey = (method: string, url: string | URL): string => {
  const parsed = new URL(url)
  const params = [...parsed.searchParams.entries()]
    .filter(([name]) => !VOLATILE_PARAMS.has(name))
    .sort(([a, av], [b, bv]) => (a === b ? av.localeCompare(bv) : a.localeCompare(b)))
  const query = new URLSearchParams(params).toString()
  return `${method.toUpperCase()} ${parsed.origin}${parsed.pathname}${query === "" ? "" : `?${query}`}`
}

const NULL_BODY_STATUSES = new Set([101, 204, 205, 301, 302, 303, 304, 307, 308])

/** Rebuilds a WHATWG Response from a recording (one `append` per `set-cookie` value). */
export const toResponse = (recorded: Recording["response"]): Response => {
  const headers = new Headers()
  for (const [name, value] of Object.entries(recorded.headers ?? {})) {
    const lower = name.toLowerCase()
    // The recorded body is already decoded, and its length may differ once re-serialized.
    if (lower === "content-encoding" || lower === "content-length") continue
    if (typeof value === "string") headers.append(name, value)
    else for (const item of value) headers.append(name, item)
  }
  const body = NULL_BODY_STATUSES.has(recorded.status)
    ? null
    : recorded.bodyText !== undefined
      ? recorded.bodyText
      : recorded.bodyJson !== undefined
        ? JSON.stringify(recorded.bodyJson)
        : null
  return new Response(body, {
    status: recorded.status,
    statusText: recorded.statusText ?? "",
    headers
  })
}

/** The answer for a request nobody recorded: a 404 shaped like Yahoo's error bodies. */
export const notRecorded = (method: string, url: string): Response =>
  new Response(
    JSON.stringify({
      finance: { result: null, error: { code: "Not Found", description: `no recording for ${method} ${url}` } }
    }),
    { status: 404, statusText: "Not Found", headers: { "content-type": "application/json;charset=utf-8" } }
  )

/**
 * Builds a fetch answering from `recordings`. When two recordings share a key, the later one wins,
 * so a test can put a hand-made edge case after the real recording it replaces. Requests without a
 * recording get a Yahoo-style 404 (see `notRecorded`).
 */
export const makeReplayFetch = (recordings: ReadonlyArray<Recording>, options: ReplayOptions = {}): ReplayFetch => {
  const index = new Map<string, number>()
  recordings.forEach((recording, i) => {
    index.set(requestKey(recording.request.method ?? "GET", recording.request.url), i)
  })
  const calls: Array<ReplayedCall> = []
  const fetch: FetchFn = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase()
    let intercepted: Response | Promise<Response> | undefined
    try {
      intercepted = options.intercept?.({ method, url: new URL(url), signal: init?.signal ?? undefined })
    } catch (error) {
      calls.push({ method, url, recording: undefined })
      throw error
    }
    const found = intercepted === undefined ? index.get(requestKey(method, url)) : undefined
    calls.push({ method, url, recording: found })
    if (intercepted !== undefined) return await intercepted
    const recording = found === undefined ? undefined : recordings[found]
    return recording === undefined ? notRecorded(method, url) : toResponse(recording.response)
  }
  return { fetch, calls }
}
