/**
 * Outbox backlog gauges for `/metrics`, read from `store.stats` when Prometheus scrapes (always
 * current, no background polling): pending, leased and dead rows, and the age of the oldest
 * pending row, in total and per route.
 */
import type { EventStore, RouteStats, StoreError } from "@sluice/core"
import { Clock, DateTime, Effect, Metric } from "effect"

export const outboxPending = Metric.gauge("sluice_outbox_pending", { description: "Outbox rows waiting for delivery" })
export const outboxLeased = Metric.gauge("sluice_outbox_leased", {
  description: "Pending rows currently leased by a relay"
})
export const outboxDead = Metric.gauge("sluice_outbox_dead", { description: "Dead-lettered outbox rows" })
export const oldestPendingAge = Metric.gauge("sluice_outbox_oldest_pending_age_seconds", {
  description: "Age of the oldest pending outbox row, in seconds (0 when none)"
})

const update = (stats: RouteStats, now: number, attributes: Record<string, string>) =>
  Effect.all(
    [
      Metric.update(Metric.withAttributes(outboxPending, attributes), stats.pending),
      Metric.update(Metric.withAttributes(outboxLeased, attributes), stats.leased),
      Metric.update(Metric.withAttributes(outboxDead, attributes), stats.dead),
      Metric.update(
        Metric.withAttributes(oldestPendingAge, attributes),
        stats.oldest_pending_at === null
          ? 0
          : Math.max(0, (now - DateTime.toEpochMillis(stats.oldest_pending_at)) / 1000)
      )
    ],
    { discard: true }
  )

/** Sets the gauges from the store's current stats. */
export const refreshBacklogGauges = (store: EventStore["Service"]): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    const stats = yield* store.stats
    const now = yield* Clock.currentTimeMillis
    yield* update(stats, now, {})
    for (const [route, byRoute] of Object.entries(stats.by_route)) yield* update(byRoute, now, { route })
  })
