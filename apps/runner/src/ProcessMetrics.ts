/**
 * Process metrics for `/metrics`, read when Prometheus scrapes: `sluice_build_info` (1, labelled
 * with the runner's version and the runtime), the resident set and heap sizes, the process start
 * time, and the event loop's delay (the p99 and max since the previous scrape: a loop blocked by a
 * long computation delays every delivery). Names follow the Prometheus client libraries' process
 * and Node.js collectors, so their dashboards read them.
 */
import { monitorEventLoopDelay } from "node:perf_hooks"
import process from "node:process"
import { Clock, Effect, Metric, type Scope } from "effect"
import { version } from "./Version.ts"

const runtime = () => {
  const deno = (globalThis as { readonly Deno?: { readonly version?: { readonly deno?: string } } }).Deno
  return deno?.version?.deno === undefined ? `node ${process.versions.node}` : `deno ${deno.version.deno}`
}

const gauges = {
  buildInfo: Metric.gauge("sluice_build_info", { description: "Always 1; the labels say which runner is running" }),
  rss: Metric.gauge("process_resident_memory_bytes", { description: "Resident memory size in bytes" }),
  heapUsed: Metric.gauge("nodejs_heap_size_used_bytes", { description: "JavaScript heap in use, in bytes" }),
  heapTotal: Metric.gauge("nodejs_heap_size_total_bytes", { description: "JavaScript heap allocated, in bytes" }),
  startTime: Metric.gauge("process_start_time_seconds", {
    description: "Start time of the process since the Unix epoch, in seconds"
  }),
  loopP99: Metric.gauge("nodejs_eventloop_lag_p99_seconds", {
    description: "The event loop's delay, 99th percentile since the previous scrape, in seconds"
  }),
  loopMax: Metric.gauge("nodejs_eventloop_lag_max_seconds", {
    description: "The event loop's longest delay since the previous scrape, in seconds"
  })
}

const read = (get: () => number): Metric.Metric.Hooks<number, Metric.GaugeState<number>> => ({
  get: () => ({ value: get() }),
  update: () => {},
  modify: () => {}
})

/** Registers the process metrics for the life of the scope (the admin server's). */
export const register: Effect.Effect<void, never, Scope.Scope> = Effect.gen(function* () {
  const context = yield* Effect.context<never>()
  const startTime = Math.round((yield* Clock.currentTimeMillis) / 1000 - process.uptime())
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  // p99 and max are read together by one scrape; the histogram restarts after the max is read.
  const loopP99 = () => delay.percentile(99) / 1e9
  const loopMax = () => {
    const max = delay.max / 1e9
    delay.reset()
    return max
  }
  const registrations = [
    Metric.registerUnsafe(
      Metric.withAttributes(gauges.buildInfo, { version, runtime: runtime() }),
      context,
      read(() => 1)
    ),
    Metric.registerUnsafe(
      gauges.rss,
      context,
      read(() => process.memoryUsage.rss())
    ),
    Metric.registerUnsafe(
      gauges.heapUsed,
      context,
      read(() => process.memoryUsage().heapUsed)
    ),
    Metric.registerUnsafe(
      gauges.heapTotal,
      context,
      read(() => process.memoryUsage().heapTotal)
    ),
    Metric.registerUnsafe(
      gauges.startTime,
      context,
      read(() => startTime)
    ),
    Metric.registerUnsafe(gauges.loopP99, context, read(loopP99)),
    Metric.registerUnsafe(gauges.loopMax, context, read(loopMax))
  ]
  yield* Effect.addFinalizer(() =>
    Effect.sync(() => {
      delay.disable()
      for (const registration of registrations) registration.remove()
    })
  )
})
