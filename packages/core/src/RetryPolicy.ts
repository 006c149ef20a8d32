/**
 * RetryPolicy: how long to wait before attempt n+1 after attempt n failed, and when to give up.
 *
 * Exponential backoff with full jitter (a uniformly random delay between 0 and the exponential
 * ceiling, both included), capped at `maxDelayMs`: full jitter spreads retries of a burst of failures instead of
 * retrying them in lock step against a receiver that is already struggling.
 */
import { Data, Duration, Schema } from "effect"

export const RetryPolicy = Schema.Struct({
  /** Attempts before a row is dead-lettered (the first delivery counts). @default 5 */
  maxAttempts: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(1))),
  /** Ceiling of the first retry's delay, doubled per attempt. @default 1000 */
  baseDelayMs: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))),
  /** Largest backoff delay. @default 300000 (5 minutes) */
  maxDelayMs: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0))),
  /** Largest wait a receiver may ask for with Retry-After. @default 3600000 (1 hour) */
  maxRetryAfterMs: Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
})
export type RetryPolicy = typeof RetryPolicy.Type

/** 5 attempts, 1 s doubling to at most 5 minutes, Retry-After honoured up to an hour. */
export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 300_000,
  maxRetryAfterMs: 3_600_000
}

/** The ceiling of the delay after failed attempt `attempt` (1-based): min(max, base * 2^(attempt-1)). */
export const delayCeilingMs = (policy: RetryPolicy, attempt: number): number =>
  Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1))

/**
 * The delay after failed attempt `attempt`, given `random` uniform in [0, 1): full jitter, a whole
 * number of milliseconds uniform in [0, ceiling], the ceiling included (so a 1 ms ceiling can delay).
 */
export const delayMs = (policy: RetryPolicy, attempt: number, random: number): number => {
  const ceiling = delayCeilingMs(policy, attempt)
  return Math.min(ceiling, Math.floor((ceiling + 1) * Math.min(Math.max(random, 0), 1)))
}

export type RetryDecision = Data.TaggedEnum<{
  Retry: { readonly delayMs: number }
  GiveUp: { readonly reason: string }
}>
export const RetryDecision = Data.taggedEnum<RetryDecision>()

/**
 * What to do after attempt `attempt` failed with a retryable error: retry after a delay (the
 * receiver's Retry-After when it gave one, clamped to `maxRetryAfterMs`), or give up once
 * `maxAttempts` attempts have been made.
 */
export const decide = (
  policy: RetryPolicy,
  attempt: number,
  error: string,
  retryAfter: Duration.Duration | undefined,
  random: number
): RetryDecision => {
  if (attempt >= policy.maxAttempts) {
    return RetryDecision.GiveUp({ reason: `gave up after ${attempt} attempt${attempt === 1 ? "" : "s"}: ${error}` })
  }
  if (retryAfter !== undefined) {
    const asked = Math.max(0, Duration.toMillis(retryAfter))
    return RetryDecision.Retry({ delayMs: Math.min(asked, policy.maxRetryAfterMs) })
  }
  return RetryDecision.Retry({ delayMs: delayMs(policy, attempt, random) })
}
