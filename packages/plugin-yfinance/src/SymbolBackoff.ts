/**
 * Per-symbol backoff for symbols Yahoo does not know (left out of a quote answer, answered with
 * `quoteType: "NONE"`, or a chart 404). Such a symbol cannot start working from one minute to the
 * next, so asking for it every tick only repeats the same warning and stores the same raw row:
 * after its n-th unknown answer it is left out of the next min(2^(n-1), 64) ticks (1, 2, 4 ... 64),
 * so over N ticks it is asked for about log2(N) times, at most once per 65 ticks. A symbol that
 * answers again is asked for every tick at once (and that is logged).
 *
 * Ticks, not wall time: the runner's schedule (`every`, failure backoff) decides how far apart
 * they are, and a skipped tick is what costs nothing.
 */
import { Metrics } from "@sluice/core"
import { Effect, Metric } from "effect"

/** The longest pause, in ticks. */
export const MAX_SKIPPED_TICKS = 64

/** The reason every unknown-symbol failure of a quote request carries (empty result or quoteType NONE). */
export const UNKNOWN_SYMBOL = "unknown symbol: Yahoo has no quote for it (unknown, expired or delisted)"

export const unknownSymbols = Metric.gauge("sluice_source_unknown_symbols", {
  description: "Symbols a source currently asks for less often because Yahoo does not know them"
})
export const skippedSymbolFetches = Metric.counter("sluice_source_skipped_symbol_fetches_total", {
  description: "Symbol requests left out of a tick because Yahoo did not know the symbol last time"
})

/** The reason of an unknown-symbol failure, saying how long the symbol now pauses. */
export const pausedReason = (reason: string, ticks: number): string =>
  `${reason}; not asked for during the next ${ticks} tick${ticks === 1 ? "" : "s"}`

export interface SymbolBackoff {
  /** The symbols to ask for in this tick (call once per tick): paused ones are left out. */
  readonly due: (symbols: ReadonlyArray<string>) => Effect.Effect<ReadonlyArray<string>>
  /** Yahoo did not know `symbol`: pauses it; returns for how many ticks. */
  readonly unknown: (symbol: string) => Effect.Effect<number>
  /** Yahoo answered for `symbol`: a paused symbol resumes (logged). */
  readonly answered: (symbol: string) => Effect.Effect<void>
}

interface State {
  /** Unknown answers in a row. */
  misses: number
  /** Ticks still to leave it out. */
  skip: number
}

/** A backoff for one source instance (metrics labelled with `source`). */
export const makeSymbolBackoff = (source: string): SymbolBackoff => {
  const states = new Map<string, State>()
  const gauge = Metrics.forSource(unknownSymbols, source)
  const skipped = Metrics.forSource(skippedSymbolFetches, source)
  return {
    due: (symbols) =>
      Effect.suspend(() => {
        const out: Array<string> = []
        let left = 0
        for (const symbol of symbols) {
          const state = states.get(symbol)
          if (state !== undefined && state.skip > 0) {
            state.skip--
            left++
          } else out.push(symbol)
        }
        // The gauge is set every tick so that its series exists (at 0) before any symbol is unknown.
        return Effect.as(
          Effect.andThen(Metric.update(gauge, states.size), left === 0 ? Effect.void : Metric.update(skipped, left)),
          out
        )
      }),
    unknown: (symbol) =>
      Effect.suspend(() => {
        const state = states.get(symbol) ?? { misses: 0, skip: 0 }
        state.misses++
        state.skip = Math.min(2 ** (state.misses - 1), MAX_SKIPPED_TICKS)
        states.set(symbol, state)
        return Effect.as(Metric.update(gauge, states.size), state.skip)
      }),
    answered: (symbol) =>
      Effect.suspend(() => {
        const state = states.get(symbol)
        if (state === undefined) return Effect.void
        states.delete(symbol)
        return Effect.andThen(
          Metric.update(gauge, states.size),
          Effect.logInfo("symbol known to Yahoo again: asked for every tick from now on").pipe(
            Effect.annotateLogs({ subject: symbol, unknown_answers: state.misses })
          )
        )
      })
  }
}
