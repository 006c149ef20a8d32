/**
 * The Yahoo Finance Source: a connector that fetches quote batches or chart ranges through
 * yahoo-finance2 and keeps each response body verbatim, and the transformer of Transform.ts.
 *
 * Failure classification: a request that fails is reported per symbol as a FetchFailure (404 and
 * other 4xx permanent; network errors, timeouts, 401/403, 408, 429 and 5xx retryable) while the
 * other symbols ingest. Unknown symbols (left out of a quote answer, `quoteType: "NONE"`, a chart
 * 404) are permanent failures and are asked for less and less often (SymbolBackoff.ts). Only when
 * nothing at all was fetched and some failure is retryable does the whole fetch fail with a
 * retryable SourceError, so the ingest loop backs off. The first failure that reached no Yahoo
 * server at all logs how to run offline (OfflineHint.ts).
 */
import { type FetchFailure, type FetchResult, type RawFetch, type Source, SourceError } from "@sluice/core"
import { Clock, DateTime, Duration, Effect, Result, Schema } from "effect"
import type { YFinanceConfig } from "./Config.ts"
import { makeOfflineHint } from "./OfflineHint.ts"
import { knownSymbols, QuoteEnvelope } from "./QuoteTransform.ts"
import { type ChartRequest, type QuoteRequest, redactUrl } from "./Request.ts"
import { makeSymbolBackoff, pausedReason, type SymbolBackoff, UNKNOWN_SYMBOL } from "./SymbolBackoff.ts"
import { transform } from "./Transform.ts"
import { type Exchange, makeClient, type YahooClient, type YahooRequestError } from "./YahooClient.ts"
import type { FetchFn } from "./YahooFetch.ts"

/** A Source plus the poll interval its config asks for (for the runner's `Ingest.run`). */
export interface YFinanceSource extends Source {
  readonly pollInterval: Duration.Duration
}

const decodeQuoteBody = Schema.decodeUnknownResult(Schema.fromJsonString(QuoteEnvelope))

const chunk = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

const toRaw = (exchange: Exchange, request: QuoteRequest | ChartRequest): RawFetch => ({
  content_type: exchange.contentType,
  body: exchange.body,
  request
})

const failed = (symbols: ReadonlyArray<string>, error: YahooRequestError): Array<FetchFailure> =>
  symbols.map((subject) => ({ subject, reason: error.reason, retryable: error.retryable }))

type Part = {
  readonly payload?: RawFetch
  readonly failures: ReadonlyArray<FetchFailure>
  /** Set when a request got no HTTP answer at all (see YahooRequestError.unreachable). */
  readonly unreachable?: string
}

const failedPart = (symbols: ReadonlyArray<string>, error: YahooRequestError): Part =>
  error.unreachable === undefined
    ? { failures: failed(symbols, error) }
    : { failures: failed(symbols, error), unreachable: error.unreachable }

/** Pauses each unknown symbol and names it in a failure that says for how long. */
const unknownFailures = (backoff: SymbolBackoff, symbols: ReadonlyArray<string>, reason: string) =>
  Effect.forEach(symbols, (subject) =>
    Effect.map(
      backoff.unknown(subject),
      (ticks): FetchFailure => ({ subject, reason: pausedReason(reason, ticks), retryable: false })
    )
  )

const fetchQuotes = (client: YahooClient, config: YFinanceConfig, concurrency: number, backoff: SymbolBackoff) =>
  Effect.flatMap(backoff.due(config.symbols), (symbols) =>
    Effect.forEach(
      chunk(symbols, config.symbolsPerRequest ?? 50),
      (batch) =>
        client.quote(batch, config.fields).pipe(
          Effect.flatMap((exchange) => {
            const request: QuoteRequest = {
              endpoint: "quote",
              url: redactUrl(exchange.url),
              symbols: batch,
              fields: config.fields ?? null,
              status: exchange.status
            }
            const payload = toRaw(exchange, request)
            const decoded = decodeQuoteBody(exchange.body)
            // An undecodable body is the transformer's to explain; only a readable one says who is
            // unknown: left out of the answer, or answered with quoteType NONE, alike.
            if (Result.isFailure(decoded)) return Effect.succeed<Part>({ payload, failures: [] })
            // No result list at all (Yahoo's error shape) says nothing about the symbols: no backoff.
            if (decoded.success.quoteResponse.result === null) {
              const reason = "Yahoo answered without a quote list (result: null)"
              return Effect.succeed<Part>({
                payload,
                failures: batch.map((subject) => ({ subject, reason, retryable: false }))
              })
            }
            const known = new Set(knownSymbols(decoded.success).map((s) => s.toUpperCase()))
            const unknown = batch.filter((s) => !known.has(s.toUpperCase()))
            return Effect.andThen(
              Effect.forEach(
                batch.filter((s) => known.has(s.toUpperCase())),
                backoff.answered,
                { discard: true }
              ),
              Effect.map(unknownFailures(backoff, unknown, UNKNOWN_SYMBOL), (failures): Part => ({ payload, failures }))
            )
          }),
          Effect.catch((error) => Effect.succeed(failedPart(batch, error)))
        ),
      { concurrency }
    )
  )

const fetchCharts = (client: YahooClient, config: YFinanceConfig, concurrency: number, backoff: SymbolBackoff) =>
  Effect.gen(function* () {
    const now = DateTime.makeUnsafe(yield* Clock.currentTimeMillis)
    const end = config.period2 ?? now
    const start =
      config.period1 ??
      DateTime.subtract(now, {
        milliseconds: Duration.toMillis(Duration.fromInputUnsafe(config.lookback as Duration.Input))
      })
    const period1 = Math.floor(DateTime.toEpochMillis(start) / 1000)
    const period2 = Math.floor(DateTime.toEpochMillis(end) / 1000)
    const interval = config.interval ?? "1d"
    const includePrePost = config.includePrePost ?? true
    return yield* Effect.forEach(
      yield* backoff.due(config.symbols),
      (symbol) =>
        client.chart(symbol, { interval, period1, period2, includePrePost }).pipe(
          Effect.map((exchange): Part => {
            const request: ChartRequest = {
              endpoint: "chart",
              url: redactUrl(exchange.url),
              symbol,
              interval,
              period1: DateTime.formatIso(DateTime.makeUnsafe(period1 * 1000)),
              period2: DateTime.formatIso(DateTime.makeUnsafe(period2 * 1000)),
              include_pre_post: includePrePost,
              status: exchange.status
            }
            return { payload: toRaw(exchange, request), failures: [] }
          }),
          Effect.tap(() => backoff.answered(symbol)),
          // A chart 404 is Yahoo's "No data found, symbol may be delisted": an unknown symbol.
          Effect.catch((error) =>
            error.status === 404
              ? Effect.map(
                  unknownFailures(backoff, [symbol], `unknown symbol: ${error.reason}`),
                  (failures): Part => ({ failures })
                )
              : Effect.succeed(failedPart([symbol], error))
          )
        ),
      { concurrency }
    )
  })

/** Joins the parts of a fetch; fails only when nothing was fetched and trying again may help. */
const settle = (name: string, parts: ReadonlyArray<Part>): Effect.Effect<FetchResult, SourceError> => {
  const payloads = parts.flatMap((part) => (part.payload === undefined ? [] : [part.payload]))
  const failures = parts.flatMap((part) => part.failures)
  if (payloads.length === 0 && failures.some((failure) => failure.retryable)) {
    const reasons = [...new Set(failures.map((failure) => failure.reason))]
    return Effect.fail(
      new SourceError({
        source: name,
        reason: `every request failed (${failures.map((f) => f.subject).join(", ")}): ${reasons.join("; ")}`,
        retryable: true
      })
    )
  }
  return Effect.succeed({ payloads, failures })
}

/**
 * Builds a source from a decoded config. `fetch` is what yahoo-finance2 calls for every HTTP
 * request (see YahooFetch.ts).
 */
export const makeSource = (config: YFinanceConfig, instance: string, fetch: FetchFn): YFinanceSource => {
  const client = makeClient({
    fetch,
    timeout: Duration.fromInputUnsafe((config.requestTimeout ?? "10 seconds") as Duration.Input)
  })
  const concurrency = config.concurrency ?? 4
  const backoff = makeSymbolBackoff(instance)
  const hint = makeOfflineHint()
  const fetchAll =
    config.mode === "chart"
      ? fetchCharts(client, config, concurrency, backoff)
      : fetchQuotes(client, config, concurrency, backoff)
  return {
    name: instance,
    pollInterval: Duration.fromInputUnsafe((config.pollInterval ?? "1 minute") as Duration.Input),
    fetch: fetchAll.pipe(
      Effect.tap((parts) => {
        const down = parts.find((part) => part.unreachable !== undefined)?.unreachable
        return down === undefined ? Effect.void : hint(down)
      }),
      Effect.flatMap((parts) => settle(instance, parts)),
      Effect.withSpan("yfinance.fetch", { attributes: { source: instance, mode: config.mode ?? "quote" } })
    ),
    transform
  }
}
