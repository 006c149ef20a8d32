/**
 * WorkSignal: a wait ends at a signal or after its longest wait, and however it ends (signal,
 * timeout, interruption) it leaves no waiter behind: the next signal is kept for the next wait.
 */
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber } from "effect"
import { TestClock } from "effect/testing"
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
})
