/**
 * DueTimes: the retry due times a relay worker waits for. Rounded up to a 25 ms step (at least
 * 1 ms later), one wake-up per step however many rows share it, forgotten once a claim covered
 * them, and capped: beyond 10,000 the latest are dropped, never the earliest.
 */
import { describe, expect, it } from "vitest"
import * as DueTimes from "../src/internal/DueTimes.ts"

const STEP = DueTimes.GRANULARITY_MS

describe("DueTimes", () => {
  it("rounds each time up to the next step, at least 1 ms later", () => {
    const dues = DueTimes.make()
    dues.add([300])
    expect(dues.next()).toBe(325)
    const exact = DueTimes.make()
    exact.add([299])
    expect(exact.next()).toBe(300)
    expect(DueTimes.GRANULARITY_MS).toBe(25)
  })

  it("keeps one wake-up per step, earliest first, whatever the order added", () => {
    const dues = DueTimes.make()
    dues.add([5_000, 301, 310, 320])
    dues.add([302])
    expect(dues.next()).toBe(325)
    dues.dropUntil(325)
    expect(dues.next()).toBe(5_025)
    dues.dropUntil(5_025)
    expect(dues.next()).toBeUndefined()
  })

  it("forgets only the times a claim at `now` covers", () => {
    const dues = DueTimes.make()
    dues.add([100, 200, 300])
    dues.dropUntil(224)
    expect(dues.next()).toBe(225)
    dues.dropUntil(0)
    expect(dues.next()).toBe(225)
  })

  it("beyond 10,000 pending wake-ups drops the latest, not the earliest", () => {
    const dues = DueTimes.make()
    const times = Array.from({ length: 10_001 }, (_, i) => i * STEP)
    // Added latest first, so the cap is reached while earlier times are still coming.
    dues.add([...times].reverse())
    expect(dues.next()).toBe(STEP)
    // The 10,000th step is kept; the 10,001st (the latest) was dropped.
    dues.dropUntil(9_999 * STEP)
    expect(dues.next()).toBe(10_000 * STEP)
    dues.dropUntil(10_000 * STEP)
    expect(dues.next()).toBeUndefined()
  })
})
