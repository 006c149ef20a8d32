/**
 * WorkSignal: a wait ends at a signal or after its longest wait, and however it ends (signal,
 * timeout, interruption) it leaves no waiter behind: the next signal is kept for the next wait.
 */
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, Scope } from "effect"
import { TestClock } from "effect/testing"
import { makeHeldClock } from "../src/testing/HeldClock.ts"
import * as WorkSignal from "../src/WorkSignal.ts"

const hour = Duration.hours(1)

/** Whether `wait` has returned once the fibers forked so far have run (no clock moves). */
const returnsAtOnce = (wait: Effect.Effect<void>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.forkChild(wait)
    yield* TestClock.adjust(0)
    const done = fiber.pollUnsafe() !== undefined
    yield* Fiber.interrupt(fiber)
    return done
  })

// On the TestClock: a wait that returned when it should not would show; none depends on timing.
describe("WorkSignal", () => {
  it.effect("a signal wakes the waiter before its longest wait", () =>
    Effect.gen(function* () {
      const work = WorkSignal.make()
      const waiting = yield* Effect.forkChild(work.wait(hour))
      yield* TestClock.adjust(0)
      assert.isUndefined(waiting.pollUnsafe())
      work.signal()
      yield* Fiber.join(waiting)
    })
  )

  it.effect("a wait returns after its longest wait, and leaves no waiter to swallow the next signal", () =>
    Effect.gen(function* () {
      const work = WorkSignal.make()
      const waiting = yield* Effect.forkChild(work.wait(Duration.seconds(1)))
      yield* TestClock.adjust("999 millis")
      assert.isUndefined(waiting.pollUnsafe())
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(waiting)
      work.signal()
      assert.isTrue(yield* returnsAtOnce(work.wait(hour)), "the signal was kept")
      assert.isFalse(yield* returnsAtOnce(work.wait(hour)), "and used once")
    })
  )

  it.effect("an interrupted wait leaves no waiter behind: the next signal is kept", () =>
    Effect.gen(function* () {
      const work = WorkSignal.make()
      const waiting = yield* Effect.forkChild(work.wait(hour))
      yield* TestClock.adjust(0)
      yield* Fiber.interrupt(waiting)
      work.signal()
      assert.isTrue(yield* returnsAtOnce(work.wait(hour)))
    })
  )

  it.effect("a woken wait does not end later at its timeout: its timer is gone", () =>
    Effect.gen(function* () {
      const work = WorkSignal.make()
      let returned = 0
      const waiting = yield* Effect.forkChild(
        Effect.gen(function* () {
          yield* work.wait(Duration.seconds(1))
          returned++
          // A second wait, which only a signal may end before an hour.
          yield* work.wait(hour)
          returned++
        })
      )
      yield* TestClock.adjust(0)
      work.signal()
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(returned, 1)
      work.signal()
      yield* Fiber.join(waiting)
      assert.strictEqual(returned, 2)
    })
  )

  // A woken waiter goes straight on to its work: its wait's timer is stopped at its next wait (or
  // when the signal is closed), not on the way from the wake-up to that work.
  it.effect("a woken wait's timer is stopped by the next wait, or by close", () => {
    const held = makeHeldClock()
    return Effect.gen(function* () {
      const work = WorkSignal.make()
      const waiting = yield* Effect.forkChild(work.wait(hour))
      yield* Effect.yieldNow
      assert.strictEqual(held.pending(), 1)
      work.signal()
      yield* Fiber.join(waiting)
      assert.strictEqual(held.pending(), 1, "left running past the wake-up")
      const next = yield* Effect.forkChild(work.wait(hour))
      yield* Effect.yieldNow
      assert.strictEqual(held.pending(), 1, "the next wait's timer only")
      work.signal()
      yield* Fiber.join(next)
      yield* work.close
      assert.strictEqual(held.pending(), 0)
      // A wait that ends any other way stops its timer at once.
      const interrupted = yield* Effect.forkChild(work.wait(hour))
      yield* Effect.yieldNow
      yield* Fiber.interrupt(interrupted)
      assert.strictEqual(held.pending(), 0)
    }).pipe(Effect.provideService(Clock.Clock, held.clock))
  })

  it.effect("a broadcast listener's scope stops the timer its last woken wait left", () => {
    const held = makeHeldClock()
    return Effect.gen(function* () {
      const broadcast = WorkSignal.makeBroadcast()
      const scope = yield* Scope.make()
      const listener = yield* Scope.provide(broadcast.listen, scope)
      const waiting = yield* Effect.forkChild(listener.wait(hour))
      yield* Effect.yieldNow
      broadcast.signal()
      yield* Fiber.join(waiting)
      assert.strictEqual(held.pending(), 1)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(held.pending(), 0)
    }).pipe(Effect.provideService(Clock.Clock, held.clock))
  })
})
