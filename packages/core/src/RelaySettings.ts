/**
 * The relay's options (what a caller passes) and its settings (the options with their defaults
 * applied and durations parsed, once per `start`, not per batch).
 */
import { Duration } from "effect"
import { settingCount, settingDuration } from "./InvalidSetting.ts"
import * as RateLimiter from "./internal/RateLimiter.ts"
import { defaultRetryPolicy, type RetryPolicy } from "./RetryPolicy.ts"
import type { Route } from "./Routing.ts"

/**
 * Rows per claim. Measured on 2 cores (PostgreSQL 15, no-op transport, one worker): 100 drains
 * ~17k rows/s, 500 ~25k/s, 1000 ~26k/s. 500 keeps most of that while a batch to a slow webhook
 * still fits in the publish timeout (80% of the 30 s lease).
 */
export const defaultBatchSize = 500

export interface RelayOptions {
  /** The routes this relay delivers; rows of other routes are left for other relays. */
  readonly routes: ReadonlyArray<Route>
  /** Lease owner recorded on claimed rows (process and worker). @default "relay" */
  readonly owner?: string
  /** Rows claimed at once (at least 1). @default 500 */
  readonly batchSize?: number
  /** How long a claim holds its rows. @default 30 seconds */
  readonly lease?: Duration.Input
  /**
   * Longest time one route's publish may take before its envelopes count as a retryable failure.
   * The transport is given a deadline (`context.deadline`) a little earlier; one that keeps it (the
   * HTTP transport does) returns its own outcomes by then, so what it delivered is recorded as
   * delivered. It must leave time to record the results while the lease still holds: otherwise every
   * result would be refused as stale, no attempt would ever be counted, and a receiver that never
   * answers would be retried forever. @default 80% of the lease
   */
  readonly publishTimeout?: Duration.Input
  /** @default defaultRetryPolicy (5 attempts) */
  readonly retryPolicy?: RetryPolicy
  /**
   * Longest wait between claims when idle and no notification arrives (a retry this relay recorded
   * ends the wait when it becomes due). @default 1 second
   */
  readonly pollInterval?: Duration.Input
  /** Concurrent workers in `run`. @default 1 */
  readonly workers?: number
}

/** RelayOptions with their defaults applied and durations parsed: once per `start`, not per batch. */
export interface Settings {
  readonly owner: string
  readonly batchSize: number
  readonly lease: Duration.Duration
  readonly publishTimeout: Duration.Duration
  readonly policy: RetryPolicy
  readonly routes: ReadonlyMap<string, Route>
  readonly routeNames: ReadonlyArray<string>
  /** The rate-limited routes' limiters, shared by the relay's workers. */
  readonly limiters: ReadonlyMap<string, RateLimiter.RateLimiter>
}

export const settingsOf = (options: RelayOptions): Settings => {
  const lease = settingDuration("relay", "lease", options.lease ?? "30 seconds", { least: 1, infinite: false })
  const routes = new Map(options.routes.map((route) => [route.name, route] as const))
  return {
    owner: options.owner ?? "relay",
    batchSize: settingCount("relay", "batchSize", options.batchSize, defaultBatchSize),
    lease,
    publishTimeout:
      options.publishTimeout === undefined
        ? Duration.millis(Math.max(1, Math.floor(Duration.toMillis(lease) * 0.8)))
        : settingDuration("relay", "publishTimeout", options.publishTimeout, { least: 1, infinite: false }),
    policy: options.retryPolicy ?? defaultRetryPolicy,
    routes,
    routeNames: [...routes.keys()],
    limiters: new Map(
      options.routes.flatMap((route) =>
        route.rateLimit === undefined ? [] : [[route.name, RateLimiter.make(route.rateLimit)] as const]
      )
    )
  }
}
