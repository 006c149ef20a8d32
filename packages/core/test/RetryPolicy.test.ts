import { describe, expect, it } from "@effect/vitest"
import { Duration, Schema } from "effect"
import { decide, defaultRetryPolicy, delayCeilingMs, delayMs } from "../src/RetryPolicy.ts"

const Attempt = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 1, maximum: 60 })))

describe("RetryPolicy", () => {
  it("the ceiling doubles from the base delay and stops at the cap", () => {
    expect([1, 2, 3, 4, 5].map((n) => delayCeilingMs(defaultRetryPolicy, n))).toEqual([1000, 2000, 4000, 8000, 16000])
    expect(delayCeilingMs(defaultRetryPolicy, 30)).toBe(300_000)
  })

  it.prop(
    "full jitter: a whole number of milliseconds, within [0, ceiling] at any draw in [0, 1)",
    [Attempt, Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true })))],
    ([attempt, random]) => {
      const delay = delayMs(defaultRetryPolicy, attempt, random)
      expect(Number.isInteger(delay)).toBe(true)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(delayCeilingMs(defaultRetryPolicy, attempt))
    }
  )

  // Drawn as floor(ceiling * random), the ceiling was never reached: a 1 ms ceiling never delayed.
  it("the ceiling itself can be drawn, the bottom gives 0", () => {
    const top = 1 - 2 ** -53
    const oneMs = { ...defaultRetryPolicy, baseDelayMs: 1 }
    expect([0, 0.49, 0.5, top].map((random) => delayMs(oneMs, 1, random))).toEqual([0, 0, 1, 1])
    expect(delayMs(defaultRetryPolicy, 1, top)).toBe(1000)
    expect(delayMs(defaultRetryPolicy, 30, top)).toBe(defaultRetryPolicy.maxDelayMs)
    expect(delayMs(defaultRetryPolicy, 30, 0)).toBe(0)
  })

  it.prop("the ceiling never decreases with the attempt", [Attempt], ([attempt]) => {
    expect(delayCeilingMs(defaultRetryPolicy, attempt + 1)).toBeGreaterThanOrEqual(
      delayCeilingMs(defaultRetryPolicy, attempt)
    )
  })

  it("gives up exactly at maxAttempts, with the attempt count and error in the reason", () => {
    for (let attempt = 1; attempt < 5; attempt++) {
      expect(decide(defaultRetryPolicy, attempt, "503", undefined, 0.5)._tag).toBe("Retry")
    }
    const last = decide(defaultRetryPolicy, 5, "503 busy", undefined, 0.5)
    expect(last).toMatchObject({ _tag: "GiveUp", reason: "gave up after 5 attempts: 503 busy" })
  })

  it("honours Retry-After, clamped to maxRetryAfterMs", () => {
    expect(decide(defaultRetryPolicy, 1, "429", Duration.seconds(42), 0.99)).toMatchObject({ delayMs: 42_000 })
    expect(decide(defaultRetryPolicy, 1, "429", Duration.days(3), 0.99)).toMatchObject({
      delayMs: defaultRetryPolicy.maxRetryAfterMs
    })
    expect(decide(defaultRetryPolicy, 5, "429", Duration.seconds(1), 0)._tag).toBe("GiveUp")
  })
})
