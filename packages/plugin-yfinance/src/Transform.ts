/**
 * The source's transformer: one stored raw payload (the exact body Yahoo sent) -> event drafts and
 * issues. It depends on the payload alone (body, request descriptor, received_at), so replaying a
 * stored raw payload gives the same events.
 */
import { type RawPayload, TransformError, type TransformResult } from "@sluice/core"
import { Effect, Result, Schema, SchemaIssue } from "effect"
import { ChartEnvelope, transformChart } from "./ChartTransform.ts"
import { isObject } from "./internal/read.ts"
import { QuoteEnvelope, transformQuotes } from "./QuoteTransform.ts"

const formatIssue = SchemaIssue.makeFormatterDefault()
const decodeQuote = Schema.decodeUnknownResult(QuoteEnvelope)
const decodeChart = Schema.decodeUnknownResult(ChartEnvelope)

const oneLine = (issue: SchemaIssue.Issue): string => formatIssue(issue).replace(/\n\s*/g, " ")

const stringField = (value: unknown, key: string): string | undefined =>
  isObject(value) && typeof value[key] === "string" ? value[key] : undefined

/**
 * Transforms a quote or chart response. Fails with TransformError when the body is not JSON or
 * not a quote/chart envelope; otherwise every quote or bar is an event draft or named in an issue.
 */
export const transform: (raw: RawPayload) => Effect.Effect<TransformResult, TransformError> = Effect.fn(
  "yfinance.transform"
)(function* (raw: RawPayload) {
  let body: unknown
  try {
    body = JSON.parse(raw.body)
  } catch (error) {
    return yield* new TransformError({
      reason: `Yahoo's response is not JSON (${raw.content_type}): ${JSON.stringify(raw.body.slice(0, 80))}`,
      cause: error
    })
  }
  if (isObject(body) && "quoteResponse" in body) {
    const decoded = decodeQuote(body, { errors: "all" })
    if (Result.isFailure(decoded)) {
      return yield* new TransformError({ reason: `not a quote response: ${oneLine(decoded.failure.issue)}` })
    }
    return transformQuotes(decoded.success)
  }
  if (isObject(body) && "chart" in body) {
    const decoded = decodeChart(body, { errors: "all" })
    if (Result.isFailure(decoded)) {
      return yield* new TransformError({ reason: `not a chart response: ${oneLine(decoded.failure.issue)}` })
    }
    return transformChart(decoded.success, {
      requestedInterval: stringField(raw.request, "interval"),
      requestedSymbol: stringField(raw.request, "symbol"),
      receivedAt: raw.received_at
    })
  }
  return yield* new TransformError({
    reason: "neither a quote (quoteResponse) nor a chart (chart) response from Yahoo"
  })
})
