/**
 * The connector's HTTP side: yahoo-finance2 (URL building, the cookie/consent/crumb handshake,
 * request queue) driven through a capturing `fetch`, so the source keeps the exact body Yahoo sent
 * (the audit trail) and the exact HTTP status (the failure classification), whatever the library
 * then makes of the response. The library's own result validation is off: the transformer decodes
 * the body itself, per quote and per bar, instead of losing a whole batch to one odd field.
 */
import { Cause, Data, Duration, Effect } from "effect"
import YahooFinance from "yahoo-finance2"
import { ExtendedCookieJar } from "yahoo-finance2/lib/cookieJar"
import { isObject } from "./internal/read.ts"
import type { FetchFn } from "./YahooFetch.ts"

/** One request failed; `retryable` says whether trying again later can help. */
export class YahooRequestError extends Data.TaggedError("YahooRequestError")<{
  readonly reason: string
  readonly retryable: boolean
  /** HTTP status of Yahoo's answer, when there was one. */
  readonly status: number | null
  /**
   * Set when Yahoo could not be reached at all (DNS failure, refused or reset connection, TLS
   * failure, timeout): what went wrong, without an HTTP status. Never set for Yahoo's 4xx/5xx.
   */
  readonly unreachable?: string
  readonly cause?: unknown
}> {
  override get message() {
    return this.reason
  }
}

/** A response from a data endpoint, exactly as received. */
export interface Exchange {
  /** The URL requested (with its crumb: redact before storing). */
  readonly url: string
  readonly status: number
  readonly contentType: string
  readonly body: string
}

export interface ChartQuery {
  readonly interval: string
  /** Epoch seconds. */
  readonly period1: number
  /** Epoch seconds. */
  readonly period2: number
  readonly includePrePost: boolean
}

export interface YahooClient {
  /** Quotes for a batch of symbols: one /v7/finance/quote request (after the crumb handshake). */
  readonly quote: (
    symbols: ReadonlyArray<string>,
    fields: ReadonlyArray<string> | undefined
  ) => Effect.Effect<Exchange, YahooRequestError>
  /** Bars of one symbol: one /v8/finance/chart request. */
  readonly chart: (symbol: string, query: ChartQuery) => Effect.Effect<Exchange, YahooRequestError>
}

/** The part of yahoo-finance2's API the client uses, typed for unvalidated results. */
interface Modules {
  quote(
    symbols: Array<string>,
    query: { readonly fields?: Array<string>; readonly return: "array" },
    module: { readonly fetch: FetchFn; readonly validateResult: false }
  ): Promise<unknown>
  chart(
    symbol: string,
    query: ChartQuery & { readonly return: "object" },
    module: { readonly fetch: FetchFn; readonly validateResult: false }
  ): Promise<unknown>
}

const isDataEndpoint = (url: URL): boolean =>
  url.pathname.startsWith("/v7/finance/quote") || url.pathname.startsWith("/v8/finance/chart/")

const urlOf = (input: string | URL | Request): string =>
  typeof input === "string" ? input : input instanceof URL ? input.href : input.url

/** Yahoo's own explanation in an error body (`{ chart: { error: { description } } }`), if any. */
const describe = (body: string): string => {
  try {
    const parsed: unknown = JSON.parse(body)
    if (isObject(parsed)) {
      for (const value of Object.values(parsed)) {
        if (isObject(value) && isObject(value.error) && typeof value.error.description === "string") {
          return `: ${value.error.description}`
        }
      }
    }
  } catch {
    // not JSON: the status alone says enough
  }
  return ""
}

/**
 * Classifies an HTTP status: 408, 429 and 5xx are transient; 401/403 mean the cookie or crumb went
 * stale (transient: a new session is made); other 4xx (404: unknown symbol) are permanent.
 */
export const classifyStatus = (
  status: number,
  body: string
): { readonly reason: string; readonly retryable: boolean } => {
  const why = describe(body)
  if (status === 404) return { reason: `Yahoo has no such symbol or data (HTTP 404${why})`, retryable: false }
  if (status === 401 || status === 403) {
    return {
      reason: `Yahoo rejected the session (HTTP ${status}${why}); a new crumb is fetched next time`,
      retryable: true
    }
  }
  if (status === 408 || status === 429)
    return { reason: `Yahoo asked to slow down (HTTP ${status}${why})`, retryable: true }
  if (status >= 500) return { reason: `Yahoo failed (HTTP ${status}${why})`, retryable: true }
  return { reason: `Yahoo refused the request (HTTP ${status}${why})`, retryable: false }
}

/** Session secrets can appear in URLs inside error messages (Deno's fetch errors quote the URL). */
const redactCrumb = (text: string): string => text.replace(/([?&]g?crumb=)[^&\s)]*/g, "$1<redacted>")

const messageOf = (error: unknown): string => redactCrumb(error instanceof Error ? error.message : String(error))

/**
 * A fetch rejection with its causes: Node's is `fetch failed` with the reason in `cause`
 * (`getaddrinfo ENOTFOUND query1.finance.yahoo.com`, `connect ECONNREFUSED ...`).
 */
const networkDetail = (error: unknown): string => {
  const parts: Array<string> = []
  let current: unknown = error
  for (let depth = 0; depth < 4 && current !== undefined && current !== null; depth++) {
    const text = messageOf(current)
    if (text !== "" && !parts.includes(text)) parts.push(text)
    current = current instanceof Error ? current.cause : undefined
  }
  return parts.join(": ")
}

export interface ClientOptions {
  readonly fetch: FetchFn
  /** Per request, including the crumb handshake. */
  readonly timeout: Duration.Duration
}

/** Builds a client with its own cookie jar (so instances never share a Yahoo session). */
export const makeClient = (options: ClientOptions): YahooClient => {
  // yahoo-finance2 logs through a callback; its lines are replayed as Effect debug logs after
  // each call, so they carry the tick's annotations instead of going to the console.
  const libraryLines: Array<{ readonly level: string; readonly message: string }> = []
  const log =
    (level: string) =>
    (...args: Array<unknown>) =>
      void libraryLines.push({
        level,
        message: args.map((arg) => (typeof arg === "string" ? arg : String(arg))).join(" ")
      })
  const flushLibraryLog = Effect.suspend(() =>
    Effect.forEach(libraryLines.splice(0), (line) => Effect.logDebug("yahoo-finance2", line), { discard: true })
  )
  const newSession = (): Modules =>
    new YahooFinance({
      cookieJar: new ExtendedCookieJar(),
      // The library's version check calls the npm registry: never from a data pipeline.
      versionCheck: false,
      validation: { logErrors: false, logOptionsErrors: false },
      suppressNotices: ["yahooSurvey", "ripHistorical"],
      logger: { info: log("info"), warn: log("warn"), error: log("error"), debug: log("debug"), dir: log("debug") }
    }) as unknown as Modules
  let session = newSession()

  const call = (run: (yf: Modules, fetch: FetchFn) => Promise<unknown>) =>
    Effect.gen(function* () {
      const outcome = yield* Effect.tryPromise({
        try: async (signal) => {
          let captured: Exchange | undefined
          // The first request that got no HTTP answer at all: the network, not Yahoo, failed.
          let unreachable: unknown
          const fetch: FetchFn = async (input, init) => {
            let response: Response
            try {
              response = await options.fetch(input, { ...init, signal })
            } catch (error) {
              if (!signal.aborted && unreachable === undefined) unreachable = error ?? "fetch rejected"
              throw error
            }
            const url = urlOf(input)
            if (!isDataEndpoint(new URL(url))) return response
            const body = await response.text()
            captured = {
              url,
              status: response.status,
              contentType: response.headers.get("content-type") ?? "application/json",
              body
            }
            // Stop the library here on an error status: the status is classified below, and the
            // library would print the URL (crumb included) to stderr.
            if (!response.ok) throw new Error(`HTTP ${response.status}`)
            // A null-body status (204) cannot carry even an empty string.
            return new Response(response.status === 204 ? null : body, {
              status: response.status,
              statusText: response.statusText,
              headers: response.headers
            })
          }
          try {
            await run(session, fetch)
            return { captured, unreachable, error: undefined }
          } catch (error) {
            return { captured, unreachable, error: error as unknown }
          }
        },
        catch: (cause) => new YahooRequestError({ reason: messageOf(cause), retryable: true, status: null, cause })
      }).pipe(
        Effect.timeoutOrElse({
          duration: options.timeout,
          orElse: () =>
            Effect.fail(
              new YahooRequestError({
                reason: `no answer from Yahoo within ${Duration.format(options.timeout)} (requestTimeout)`,
                retryable: true,
                status: null,
                unreachable: `no answer within ${Duration.format(options.timeout)}`,
                cause: new Cause.TimeoutError()
              })
            )
        }),
        Effect.ensuring(flushLibraryLog)
      )
      const { captured, unreachable, error } = outcome
      if (captured !== undefined) {
        if (captured.status >= 200 && captured.status < 300) {
          if (error !== undefined)
            yield* Effect.logDebug("yahoo-finance2 rejected a response; kept for the transformer", {
              error: messageOf(error)
            })
          return captured
        }
        const { reason, retryable } = classifyStatus(captured.status, captured.body)
        if (captured.status === 401 || captured.status === 403) session = newSession()
        return yield* new YahooRequestError({ reason, retryable, status: captured.status, cause: error })
      }
      const name = error instanceof Error ? error.name : ""
      if (name === "InvalidOptionsError") {
        return yield* new YahooRequestError({
          reason: `yahoo-finance2 refused the options: ${messageOf(error)}`,
          retryable: false,
          status: null,
          cause: error
        })
      }
      if (unreachable !== undefined) {
        const detail = networkDetail(unreachable)
        return yield* new YahooRequestError({
          reason: `network failure: ${detail}`,
          retryable: true,
          status: null,
          unreachable: detail,
          cause: unreachable
        })
      }
      return yield* new YahooRequestError({
        reason: `handshake or library failure: ${error === undefined ? "no response from the data endpoint" : messageOf(error)}`,
        retryable: true,
        status: null,
        cause: error
      })
    })

  return {
    quote: (symbols, fields) =>
      call((yf, fetch) =>
        yf.quote([...symbols], fields === undefined ? { return: "array" } : { fields: [...fields], return: "array" }, {
          fetch,
          validateResult: false
        })
      ).pipe(Effect.withSpan("yfinance.quote", { attributes: { symbols: symbols.join(",") } })),
    chart: (symbol, query) =>
      call((yf, fetch) => yf.chart(symbol, { ...query, return: "object" }, { fetch, validateResult: false })).pipe(
        Effect.withSpan("yfinance.chart", { attributes: { symbol, interval: query.interval } })
      )
  }
}
