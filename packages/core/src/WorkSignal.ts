/**
 * The in-process half of `OutboxQueue.waitForWork`, shared by the stores: `signal` wakes every fiber
 * waiting now, and when none waits it is KEPT for the next `wait`, which then returns at once.
 *
 * Why kept: a relay is not waiting while it claims and publishes. A signal that arrived then (new
 * rows committed after its claim read the table) would otherwise be lost, and those rows would sit
 * until the next signal or the poll interval: that was the tail of the commit-to-publish latency.
 * The price is at most one extra, empty claim.
 */
import { type Duration, Effect, type Fiber, type Scope } from "effect"

export interface WorkSignal {
  /** Wakes the current waiters; with none, the next `wait` returns at once. */
  readonly signal: () => void
  /** Returns at the next signal (or at once if one is kept), or after `maxWait`. */
  readonly wait: (maxWait: Duration.Duration) => Effect.Effect<void>
  /** Stops the timers finished waits left behind (each would otherwise run out its `maxWait`). */
  readonly close: Effect.Effect<void>
}

export const make = (): WorkSignal => {
  const waiters = new Set<() => void>()
  let kept = false
  const signal = () => {
    if (waiters.size === 0) {
      kept = true
      return
    }
    // Snapshot first: a woken fiber may run at once and wait again, and this signal must not
    // wake it a second time (it would spin).
    const woken = [...waiters]
    waiters.clear()
    for (const wake of woken) wake()
  }
  // The timers of waits a signal ended. Interrupting one costs tens of microseconds, and a woken
  // waiter goes straight on to its read or claim: so it is left to the next wait (or `close`),
  // after that work. Meanwhile it can only fire into its own finished wait, which ignores it.
  let stale: Array<Fiber.Fiber<void>> = []
  const interruptStale = () => {
    if (stale.length === 0) return
    const timers = stale
    stale = []
    for (const timer of timers) timer.interruptUnsafe()
  }
  // One callback and one timer fiber, not a race (which suspends a third fiber and a fourth for
  // the race itself): every suspended fiber costs an async resource at suspension and a scope
  // switch at resumption, and this wait sits between each wake-up and the read or claim it starts.
  const wait = (maxWait: Duration.Duration): Effect.Effect<void> =>
    Effect.suspend(() => {
      interruptStale()
      if (kept) {
        kept = false
        return Effect.void
      }
      let wake: (() => void) | undefined
      let timedOut = false
      let signalled = false
      const timeout = Effect.andThen(
        Effect.sleep(maxWait),
        Effect.sync(() => {
          timedOut = true
          wake?.()
        })
      )
      return Effect.flatMap(Effect.forkDetach(timeout, { startImmediately: true }), (timer) =>
        Effect.callback<void>((resume) => {
          // Checked where the waiter registers, so no signal can slip in between.
          if (kept || timedOut) {
            signalled = kept
            kept = false
            resume(Effect.void)
            return
          }
          wake = () => {
            signalled = !timedOut
            resume(Effect.void)
          }
          waiters.add(wake)
        }).pipe(
          Effect.ensuring(
            Effect.sync(() => {
              if (wake !== undefined) waiters.delete(wake)
              wake = undefined
              // Woken: the waiter has work to do first. Timed out or interrupted: nothing is waiting on it.
              if (signalled) stale.push(timer)
              else timer.interruptUnsafe()
            })
          )
        )
      )
    })
  return { signal, wait, close: Effect.sync(interruptStale) }
}

/**
 * One WorkSignal per listener: `signal` wakes every listener, and each one that is not waiting keeps
 * the wake-up for its own next `wait`. For readers that must not miss a commit that lands while they
 * read (subscriptions), when there may be several of them: a single WorkSignal keeps one wake-up
 * for whichever caller waits first.
 */
export interface Broadcast {
  readonly signal: () => void
  /** A listener until the scope closes; register it before the read it must not miss commits after. */
  readonly listen: Effect.Effect<Listener, never, Scope.Scope>
}

export interface Listener {
  /** Returns at the first signal since the previous wait returned (or since it was made), or after `maxWait`. */
  readonly wait: (maxWait: Duration.Duration) => Effect.Effect<void>
}

export const makeBroadcast = (): Broadcast => {
  const listeners = new Set<WorkSignal>()
  return {
    signal: () => {
      for (const listener of listeners) listener.signal()
    },
    listen: Effect.acquireRelease(
      Effect.sync(() => {
        const listener = make()
        listeners.add(listener)
        return listener
      }),
      (listener) =>
        Effect.andThen(
          Effect.sync(() => void listeners.delete(listener)),
          listener.close
        )
    ).pipe(Effect.map((listener) => ({ wait: listener.wait })))
  }
}
