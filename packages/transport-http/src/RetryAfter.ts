/**
 * `Retry-After` (RFC 9110 §10.2.3): either a number of seconds or an HTTP date. The wait is measured
 * from the Clock's `now`, never from the machine's clock, and clamped to [0, max].
 */
import { Duration } from "effect"

const seconds = /^\s*(\d+)\s*$/
// An HTTP date names a weekday or a month: this keeps `Date.parse` from reading "-5" as a year.
const httpDate = /[A-Za-z]{3}/

/**
 * The wait a `Retry-After` value asks for, clamped to `maxMs`; undefined when absent or unreadable
 * (the relay then uses its own backoff). A date in the past means "now" (zero).
 */
export const parseRetryAfter = (
  value: string | undefined,
  nowMs: number,
  maxMs: number
): Duration.Duration | undefined => {
  if (value === undefined) return undefined
  const match = seconds.exec(value)
  const askedMs =
    match !== null ? Number(match[1]) * 1000 : httpDate.test(value) ? Date.parse(value) - nowMs : Number.NaN
  if (Number.isNaN(askedMs)) return undefined
  return Duration.millis(Math.min(Math.max(0, askedMs), maxMs))
}
