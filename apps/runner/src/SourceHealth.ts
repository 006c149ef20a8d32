/**
 * Each source's last tick, for the dashboard (`GET /api/sources`). The runner wraps each source's
 * `fetch` (core's ingest loop is unchanged): when it ends, the time, the outcome (`ok`, `partial`
 * when some subjects failed, `failed`), the error and the count of failed fetches in a row are
 * kept. Store errors after a fetch (the append) are not seen here: they are logged as "tick
 * failed". The totals are this process's ingest counters (core's Metrics).
 */
import { type FetchResult, Metrics, type Source, type SourceError } from "@sluice/core"
import { Cause, Clock, DateTime, Effect, Exit, Metric } from "effect"

/** One source as `GET /api/sources` answers it. */
export interface SourceReport {
  readonly source: string
  /** When the last fetch ended (ISO), or null before the first. */
  readonly last_tick_at: string | null
  readonly last_outcome: "ok" | "partial" | "failed" | null
  /** The failed fetch's reason, or the failed subjects of a partial one. */
  readonly last_error: string | null
  readonly consecutive_failures: number
  readonly ticks: number
  readonly events_ingested_total: number
  readonly fetch_failures_total: number
  readonly transform_failures_total: number
}

interface State {
  lastAt: number | null
  outcome: SourceReport["last_outcome"]
  error: string | null
  failures: number
  ticks: number
}

export interface SourceHealth {
  /** `source` whose fetches are recorded. */
  readonly track: (source: Source) => Source
  readonly report: Effect.Effect<ReadonlyArray<SourceReport>>
}

// A partial fetch may fail for many subjects: say how many, show a few.
const partialError = (result: FetchResult) => {
  const shown = result.failures.slice(0, 3).map((f) => `${f.subject}: ${f.reason}`)
  const more = result.failures.length > shown.length ? ` (and ${result.failures.length - shown.length} more)` : ""
  return `${shown.join("; ")}${more}`
}

const total = (metric: Metric.Counter<number>, source: string) =>
  Effect.map(Metric.value(Metrics.forSource(metric, source)), (state) => state.count)

/** A tracker of the sources `names` (the config's), each reported before its first tick. */
export const make = (names: ReadonlyArray<string>): SourceHealth => {
  const states = new Map<string, State>()
  const stateOf = (name: string) => {
    let state = states.get(name)
    if (state === undefined) {
      state = { lastAt: null, outcome: null, error: null, failures: 0, ticks: 0 }
      states.set(name, state)
    }
    return state
  }
  for (const name of names) stateOf(name)
  const record = (name: string, exit: Exit.Exit<FetchResult, SourceError>) =>
    Effect.gen(function* () {
      // A fetch interrupted by shutdown says nothing about the source.
      if (Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)) return
      const state = stateOf(name)
      state.lastAt = yield* Clock.currentTimeMillis
      state.ticks += 1
      if (Exit.isSuccess(exit)) {
        state.failures = 0
        state.outcome = exit.value.failures.length === 0 ? "ok" : "partial"
        state.error = exit.value.failures.length === 0 ? null : partialError(exit.value)
      } else {
        state.failures += 1
        state.outcome = "failed"
        const error = Cause.findErrorOption(exit.cause)
        state.error = error._tag === "Some" ? error.value.reason : Cause.pretty(exit.cause).split("\n")[0]!
      }
    })
  return {
    track: (source) => ({ ...source, fetch: Effect.onExit(source.fetch, (exit) => record(source.name, exit)) }),
    report: Effect.forEach([...states.keys()].sort(), (source) =>
      Effect.gen(function* () {
        const state = stateOf(source)
        return {
          source,
          last_tick_at: state.lastAt === null ? null : DateTime.formatIso(DateTime.makeUnsafe(state.lastAt)),
          last_outcome: state.outcome,
          last_error: state.error,
          consecutive_failures: state.failures,
          ticks: state.ticks,
          events_ingested_total: yield* total(Metrics.eventsIngested, source),
          fetch_failures_total: yield* total(Metrics.fetchFailures, source),
          transform_failures_total: yield* total(Metrics.transformFailures, source)
        } satisfies SourceReport
      })
    )
  }
}
