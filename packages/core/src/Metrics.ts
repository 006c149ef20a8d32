/**
 * The metrics every pipeline step updates. Names follow Prometheus' naming and instrumentation
 * guidelines: base units (`_seconds`), one label set per family (the source, route or subscription,
 * never an event id: unbounded label values would exhaust memory), and every series a running
 * source, relay or subscription can update exists from its start at 0 (`initialise*`), so
 * `increase()` sees the first failure.
 */
import { Effect, Metric } from "effect"

export const rawPayloads = Metric.counter("sluice_raw_payloads_total", {
  description: "Raw payloads stored (including those that failed to transform)"
})
export const eventsIngested = Metric.counter("sluice_events_ingested_total", {
  description: "New events appended"
})
export const eventsDuplicate = Metric.counter("sluice_events_duplicate_total", {
  description: "Events skipped because their deterministic id was already stored"
})
export const eventsCorrected = Metric.counter("sluice_events_corrected_total", {
  description: "Corrections appended: events whose source restated content it had sent before (Correction.ts)"
})
export const eventsOutdated = Metric.counter("sluice_events_outdated_total", {
  description: "Events skipped because a later raw payload already gave their key other content"
})
export const transformFailures = Metric.counter("sluice_transform_failures_total", {
  description: "Raw payloads (or parts of them) that could not become events"
})
export const fetchFailures = Metric.counter("sluice_fetch_failures_total", {
  description: "Source fetches (or parts of them) that failed"
})
export const delivered = Metric.counter("sluice_delivered_total", { description: "Outbox rows delivered" })
export const retried = Metric.counter("sluice_retried_total", { description: "Deliveries scheduled for a retry" })
export const deadLettered = Metric.counter("sluice_dead_lettered_total", { description: "Outbox rows dead-lettered" })
export const staleCompletions = Metric.counter("sluice_stale_completions_total", {
  description: "Results refused because the worker's lease had expired or been taken over"
})
export const publishDuration = Metric.histogram("sluice_publish_duration_seconds", {
  description: "Time a transport took to publish one batch, in seconds",
  // 1 ms to ~8 s
  boundaries: Metric.exponentialBoundaries({ start: 0.001, factor: 2, count: 14 })
})
export const deliveryLag = Metric.histogram("sluice_delivery_lag_seconds", {
  description: "Time from an outbox row's creation to its delivery, in seconds",
  // 1 ms to ~9 min
  boundaries: Metric.exponentialBoundaries({ start: 0.001, factor: 2, count: 20 })
})

export const subscriptionEvents = Metric.counter("sluice_subscription_events_total", {
  description: "Events handled by a subscription (or projection) whose batch was checkpointed"
})
export const subscriptionBatchFailures = Metric.counter("sluice_subscription_batch_failures_total", {
  description: "Subscription batches that failed (and will be read again)"
})

// One labelled metric per (metric, label): a fresh `withAttributes` wrapper would recompute its
// series key on every update (measured: 12% of the relay's CPU when done per delivered row). Effect
// 4.1 caches only the last key per base metric, so with several routes alternating the key is still
// rebuilt when the route changes: once per batch, not per row.
const labelled = new WeakMap<object, Map<string, unknown>>()
const withLabel = <I, S>(
  metric: Metric.Metric<I, S>,
  key: "source" | "route" | "subscription",
  value: string
): Metric.Metric<I, S> => {
  let byValue = labelled.get(metric)
  if (byValue === undefined) {
    byValue = new Map()
    labelled.set(metric, byValue)
  }
  const cacheKey = `${key}\u0000${value}`
  let found = byValue.get(cacheKey) as Metric.Metric<I, S> | undefined
  if (found === undefined) {
    found = Metric.withAttributes(metric, { [key]: value })
    byValue.set(cacheKey, found)
  }
  return found
}

/** Labels a metric with a source name. */
export const forSource = <I, S>(metric: Metric.Metric<I, S>, source: string): Metric.Metric<I, S> =>
  withLabel(metric, "source", source)
/** Labels a metric with a route name. */
export const forRoute = <I, S>(metric: Metric.Metric<I, S>, route: string): Metric.Metric<I, S> =>
  withLabel(metric, "route", route)
/** Labels a metric with a subscription name. */
export const forSubscription = <I, S>(metric: Metric.Metric<I, S>, subscription: string): Metric.Metric<I, S> =>
  withLabel(metric, "subscription", subscription)

/** Every counter labelled by source. */
const sourceMetrics = [
  rawPayloads,
  eventsIngested,
  eventsDuplicate,
  eventsCorrected,
  eventsOutdated,
  transformFailures,
  fetchFailures
]
/** Every counter and histogram labelled by route. */
const routeMetrics: ReadonlyArray<Metric.Metric<never, unknown>> = [
  delivered,
  retried,
  deadLettered,
  publishDuration,
  deliveryLag
]
const subscriptionMetrics = [subscriptionEvents, subscriptionBatchFailures]

// Reading a series registers it: counters at 0, histograms with no observations.
const touch = (metrics: ReadonlyArray<Metric.Metric<never, unknown>>) =>
  Effect.forEach(metrics, (metric) => Metric.value(metric), { discard: true })

/** Registers a source's series at 0 (an ingest loop does it when it starts). */
export const initialiseSource = (source: string): Effect.Effect<void> =>
  touch(sourceMetrics.map((metric) => forSource(metric, source)))
/** Registers each route's series at 0, and the unlabelled stale-completion counter (a relay does it when it starts). */
export const initialiseRoutes = (routes: ReadonlyArray<string>): Effect.Effect<void> =>
  touch([staleCompletions, ...routes.flatMap((route) => routeMetrics.map((metric) => forRoute(metric, route)))])
/** Registers a subscription's series at 0 (a subscription does it when it starts). */
export const initialiseSubscription = (subscription: string): Effect.Effect<void> =>
  touch(subscriptionMetrics.map((metric) => forSubscription(metric, subscription)))
