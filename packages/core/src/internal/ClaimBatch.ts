/**
 * A relay batch's claim. Without rate-limited routes, one claim of the relay's routes. With some,
 * the others in one claim and each limited route in its own, of at most what its limiter allows
 * now (a claim's limit is for all its routes together); a limiter that ran dry says when to claim
 * again (`dueAt`), so an idle relay wakes when its next token comes rather than at the next poll.
 */
import { Clock, Effect } from "effect"
import type { StoreError } from "../EventStore.ts"
import { type Claimed, OutboxQueue } from "../OutboxQueue.ts"
import type { Settings } from "../RelaySettings.ts"

export interface ClaimedBatch {
  readonly claimed: ReadonlyArray<Claimed>
  /** When a rate-limited route may go again (Clock millis), for the relay's next wake-up. */
  readonly dueAt: ReadonlyArray<number>
}

export const claimBatch = (settings: Settings): Effect.Effect<ClaimedBatch, StoreError, OutboxQueue> =>
  Effect.gen(function* () {
    const store = yield* OutboxQueue
    const { owner, batchSize, lease, limiters } = settings
    if (limiters.size === 0) {
      return { claimed: yield* store.claim({ owner, limit: batchSize, lease, routes: settings.routeNames }), dueAt: [] }
    }
    const unlimited = settings.routeNames.filter((route) => !limiters.has(route))
    const claimed: Array<Claimed> = []
    const dueAt: Array<number> = []
    if (unlimited.length > 0)
      claimed.push(...(yield* store.claim({ owner, limit: batchSize, lease, routes: unlimited })))
    for (const [route, limiter] of limiters) {
      const now = yield* Clock.currentTimeMillis
      const allowed = Math.min(batchSize, limiter.available(now))
      if (allowed >= 1) {
        const rows = yield* store.claim({ owner, limit: allowed, lease, routes: [route] })
        limiter.take(now, rows.length)
        claimed.push(...rows)
        // It took all it was allowed: more rows may wait for the next token.
        if (rows.length === allowed) dueAt.push(limiter.nextAt(now))
      } else dueAt.push(limiter.nextAt(now))
    }
    return { claimed, dueAt }
  })
