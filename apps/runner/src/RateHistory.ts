/**
 * Delivery and failure rates over the last minutes, per route, for the dashboard
 * (`GET /api/rates`): this process's `sluice_delivered_total`, `sluice_retried_total` and
 * `sluice_dead_lettered_total` counters (core's Metrics), sampled every `interval` into a bounded
 * window. Rates are this process's only: other `sluice run` processes on the same outbox count
 * their own (Prometheus sums them; the outbox counts in `/api/status` are everyone's).
 */
import { Metrics } from "@sluice/core"
import { Clock, DateTime, Duration, Effect, Metric, Schedule } from "effect"

/** Counter values of one route at one instant. */
interface Counts {
  readonly delivered: number
  readonly retried: number
  readonly dead_lettered: number
}

interface Sample {
  readonly at: number
  readonly byRoute: ReadonlyMap<string, Counts>
}

/** The rates between two samples, per second, at the end of that span. */
export interface RatePoint {
  readonly at: string
  readonly span_s: number
  readonly delivered_per_s: number
  readonly retried_per_s: number
  readonly dead_lettered_per_s: number
}

/** What `GET /api/rates` answers. */
export interface RatesReport {
  /** Always "process": the counters are this process's. */
  readonly scope: "process"
  readonly interval_s: number
  readonly window_s: number
  readonly routes: ReadonlyArray<{
    readonly route: string
    /** Oldest first; the last one runs from the last sample to now. */
    readonly points: ReadonlyArray<RatePoint>
  }>
}

export interface RateHistory {
  /** Reads the counters now and keeps them (drops the oldest sample past the window). */
  readonly sample: Effect.Effect<void>
  /** Samples every `interval`, forever. */
  readonly run: Effect.Effect<never>
  readonly report: Effect.Effect<RatesReport>
}

export interface RateHistoryOptions {
  /** @default 10 seconds */
  readonly interval?: Duration.Input
  /** How far back rates go. @default 15 minutes */
  readonly window?: Duration.Input
}

const count = (metric: Metric.Counter<number>, route: string) =>
  Effect.map(Metric.value(Metrics.forRoute(metric, route)), (state) => state.count)

const read = (routes: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const byRoute = new Map<string, Counts>()
    for (const route of routes) {
      byRoute.set(route, {
        delivered: yield* count(Metrics.delivered, route),
        retried: yield* count(Metrics.retried, route),
        dead_lettered: yield* count(Metrics.deadLettered, route)
      })
    }
    return { at: yield* Clock.currentTimeMillis, byRoute } satisfies Sample
  })

// Counters only grow, but clamp anyway: a rate is never negative.
const perSecond = (after: number, before: number, seconds: number) =>
  Math.round((Math.max(0, after - before) / seconds) * 1000) / 1000

const point = (before: Sample, after: Sample, route: string): RatePoint => {
  const zero: Counts = { delivered: 0, retried: 0, dead_lettered: 0 }
  const a = after.byRoute.get(route) ?? zero
  const b = before.byRoute.get(route) ?? zero
  const seconds = Math.max((after.at - before.at) / 1000, 0.001)
  return {
    at: DateTime.formatIso(DateTime.makeUnsafe(after.at)),
    span_s: Math.round(seconds * 10) / 10,
    delivered_per_s: perSecond(a.delivered, b.delivered, seconds),
    retried_per_s: perSecond(a.retried, b.retried, seconds),
    dead_lettered_per_s: perSecond(a.dead_lettered, b.dead_lettered, seconds)
  }
}

/** A history of `routes` (the config's: the relay delivers no others), with its first sample taken. */
export const make = (routes: ReadonlyArray<string>, options: RateHistoryOptions = {}): Effect.Effect<RateHistory> =>
  Effect.gen(function* () {
    const interval = Duration.fromInputUnsafe(options.interval ?? "10 seconds")
    const window = Duration.fromInputUnsafe(options.window ?? "15 minutes")
    // One more sample than spans in the window: N samples bound N - 1 spans.
    const capacity = Math.max(2, Math.ceil(Duration.toMillis(window) / Duration.toMillis(interval)) + 1)
    const samples: Array<Sample> = [yield* read(routes)]
    const sample = Effect.map(read(routes), (next) => {
      samples.push(next)
      if (samples.length > capacity) samples.splice(0, samples.length - capacity)
    })
    const report = Effect.map(read(routes), (now): RatesReport => {
      // The span from the last sample to now, so a fresh page does not wait a whole interval.
      const all = now.at - samples[samples.length - 1]!.at >= 1000 ? [...samples, now] : samples
      return {
        scope: "process",
        interval_s: Duration.toSeconds(interval),
        window_s: Duration.toSeconds(window),
        routes: routes.map((route) => ({
          route,
          points: all.slice(1).map((after, i) => point(all[i]!, after, route))
        }))
      }
    })
    return {
      sample,
      run: Effect.andThen(Effect.repeat(sample, Schedule.spaced(interval)), Effect.never),
      report
    }
  })
