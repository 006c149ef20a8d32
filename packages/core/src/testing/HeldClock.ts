/**
 * A Clock whose sleeps never end by themselves, counting the ones still pending: for checking that
 * something leaves no timer behind (a wait woken early, a component whose scope closed). A timer
 * left running is invisible otherwise: it only fires into a finished wait, up to its full delay
 * later. Time stands still at 0.
 */
import { type Clock, Effect } from "effect"

export interface HeldClock {
  /** Provide it as `Clock.Clock` to the code under test. */
  readonly clock: Clock.Clock
  /** Sleeps started and not yet interrupted. */
  readonly pending: () => number
}

/** A fresh HeldClock: no sleep pending, time at 0. */
export const makeHeldClock = (): HeldClock => {
  let pending = 0
  const clock: Clock.Clock = {
    currentTimeMillisUnsafe: () => 0,
    currentTimeMillis: Effect.succeed(0),
    currentTimeNanosUnsafe: () => 0n,
    currentTimeNanos: Effect.succeed(0n),
    monotonicTimeNanosUnsafe: () => 0n,
    monotonicTimeNanos: Effect.succeed(0n),
    sleep: () =>
      Effect.callback<void>(() => {
        pending++
        return Effect.sync(() => {
          pending--
        })
      })
  }
  return { clock, pending: () => pending }
}
