/**
 * How an HTTP answer becomes a publish outcome:
 *
 * | answer                                   | outcome                                           |
 * |------------------------------------------|---------------------------------------------------|
 * | 2xx                                      | Delivered                                         |
 * | 3xx                                      | Permanent: redirects are not followed (Location)  |
 * | 408, 429, 5xx                            | Retryable, after `Retry-After` when given         |
 * | other 4xx                                | Permanent, with the status and a body excerpt     |
 * | timeout, connection error                | Retryable                                         |
 * | not started by the relay's deadline      | NotSent (no attempt counted)                      |
 * | cut at the relay's deadline              | Retryable                                         |
 *
 * Redirects are refused because following one would send a signed body to a host nobody configured.
 */
import { delivered, notSent, type PublishOutcome, permanent, retryable } from "@sluice/core"
import { parseRetryAfter } from "./RetryAfter.ts"

/** Characters of the response body kept in a failure reason. */
export const excerptLength = 200

/** A short, single-line excerpt of a response body. */
export const excerpt = (body: string): string => {
  const flat = body.replace(/\s+/g, " ").trim()
  return flat.length > excerptLength ? `${flat.slice(0, excerptLength)}…` : flat
}

/** What the transport read of an answer. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | undefined>>
  /** The start of the body (read for failures only). */
  readonly body: string
}

const withBody = (prefix: string, body: string) => (body.length > 0 ? `${prefix}: ${excerpt(body)}` : prefix)

/** Maps an answer to an outcome; `nowMs` is the Clock's time, for `Retry-After` dates. */
export const outcomeOf = (answer: Answer, nowMs: number, maxRetryAfterMs: number): PublishOutcome => {
  const { status } = answer
  if (status >= 200 && status < 300) return delivered
  if (status >= 300 && status < 400) {
    const location = answer.headers.location
    return permanent(
      `HTTP ${status} redirect${location === undefined ? "" : ` to ${location}`} not followed: ` +
        "a signed event is only sent to the configured URL"
    )
  }
  if (status === 408 || status === 429 || (status >= 500 && status < 600)) {
    const retryAfter = parseRetryAfter(answer.headers["retry-after"], nowMs, maxRetryAfterMs)
    const reason = withBody(`HTTP ${status}`, answer.body)
    return retryAfter === undefined ? retryable(reason) : retryable(reason, retryAfter)
  }
  if (status >= 400 && status < 500) return permanent(withBody(`HTTP ${status}`, answer.body))
  return retryable(`unexpected HTTP status ${status}`)
}

/** A request that got no answer in time. */
export const timedOut = (timeoutMs: number): PublishOutcome => retryable(`no answer within ${timeoutMs} ms`)

/** A request that failed before an answer (refused, reset, DNS...): `detail` names the cause. */
export const connectionFailed = (origin: string, detail: string): PublishOutcome =>
  retryable(`request to ${origin} failed: ${detail}`)

/**
 * A request not started: the relay's publish deadline (its publish timeout, less a margin) had
 * passed. Its rows go back to pending with no attempt counted.
 */
export const notStarted: PublishOutcome = notSent("not sent: the relay's publish deadline had passed")

/** A request whose wait for an answer the relay's publish deadline cut short (it may have arrived). */
export const cutByDeadline = (waitedMs: number): PublishOutcome =>
  retryable(`no answer within ${waitedMs} ms, when the relay's publish deadline came`)
