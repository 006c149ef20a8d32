/**
 * The Yahoo Finance Source: a connector that fetches quote batches or chart ranges through
 * yahoo-finance2 and keeps each response body verbatim, and the transformer of Transform.ts.
 *
 * Failure classification: a request that fails is reported per symbol as a FetchFailure (404 and
 * other 4xx permanent; network errors, timeouts, 401/403, 408, 429 and 5xx retryable) while the
 * other symbols ingest; a quote batch answered without some symbols reports those as permanent
 * (unknown or expired symbols). Only when nothing at all was fetched and some failure is retryable
 * does the whole fetch fail with a retryable SourceError, so the ingest loop backs off.
 */
import { type FetchFailure, type FetchResult, type RawFetch, type Source, SourceError } from "@sluice/core"
import { Clock, DateTime, Duration, Effect, Result, Schema } from "effect"
import type { YFinanceConfig } from "./Config.ts"
import { QuoteEnvelope, quoteSymbols } from "./QuoteTransform.ts"
import { type ChartRequest, type QuoteRequest, redactUrl } from "./Request.ts"
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

type Part = { readonly payload?: RawFetch; readonly failures: ReadonlyArray<FetchFailure> }

const fetchQuotes = (client: YahooClient, config: YFinanceConfig, concurrency: number) =>
  Effect.forEach(
    chunk(config.symbols, config.symbolsPerRequest ?? 50),
    (batch) =>
      client.quote(batch, config.fields).pipe(
        Effect.map((exchange): Part => {
          const request: QuoteRequest = {
            endpoint: "quote",
            url: redactUrl(exchange.url),
            symbols: batch,
            fields: config.fields ?? null,
            status: exchange.status
          }
          const decoded = decodeQuoteBody(exchange.body)
          // An undecodable body is the transformer's to explain; only a readable one says who is missing.
          const present = new Set(
            Result.isSuccess(decoded) ? quoteSymbols(decoded.success).map((s) => s.toUpperCase()) : []
          )
          const missing = Result.isSuccess(decoded) ? batch.filter((s) => !present.has(s.toUpperCase())) : []
          return {
            payload: toRaw(exchange, request),
            failures: missing.map((subject) => ({
              subject,
              reason: "Yahoo returned no quote for this symbol (unknown, expired or delisted)",
              retryable: false
            }))
          }
        }),
        Effect.catch((error) => Effect.succeed<Part>({ failures: failed(batch, error) }))
      ),
    { concurrency }
  )

const fetchCharts = (client: YahooClient, config: YFinanceConfig, concurrency: number) =>
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
      config.symbols,
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
          Effect.catch((error) => Effect.succeed<Part>({ failures: failed([symbol], error) }))
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
  const fetchAll =
    config.mode === "chart" ? fetchCharts(client, config, concurrency) : fetchQuotes(client, config, concurrency)
  return {
    name: instance,
    pollInterval: Duration.fromInputUnsafe((config.pollInterval ?? "1 minute") as Duration.Input),
    fetch: fetchAll.pipe(
      Effect.flatMap((parts) => settle(instance, parts)),
      Effect.withSpan("yfinance.fetch", { attributes: { source: instance, mode: config.mode ?? "quote" } })
    ),
    transform
  }
}
