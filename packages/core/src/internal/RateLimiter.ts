/**
 * A route's rate limit (Route.rateLimit): a token bucket refilled at `perSecond`, holding at most one
 * second's worth (at least 1), read with the Clock's millis. Shared by a relay's workers.
 */
export interface RateLimiter {
  /** Whole events that may go now. */
  readonly available: (now: number) => number
  /** Takes `n` (at most what is available). */
  readonly take: (now: number, n: number) => void
  /** When the next whole event may go (Clock millis). */
  readonly nextAt: (now: number) => number
}

export const make = (perSecond: number): RateLimiter => {
  const capacity = Math.max(1, perSecond)
  let tokens = capacity
  let at: number | undefined
  const refill = (now: number) => {
    if (at !== undefined) tokens = Math.min(capacity, tokens + ((now - at) * perSecond) / 1000)
    at = now
  }
  return {
    available: (now) => {
      refill(now)
      return Math.floor(tokens)
    },
    take: (now, n) => {
      refill(now)
      tokens = Math.max(0, tokens - n)
    },
    nextAt: (now) => {
      refill(now)
      return tokens >= 1 ? now : now + Math.ceil(((1 - tokens) * 1000) / perSecond)
    }
  }
}
