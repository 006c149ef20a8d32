/**
 * The due times of the retries a relay worker recorded, so that its idle wait ends when one is due
 * instead of at the next poll. Each time is rounded up to the next multiple of GRANULARITY_MS, at
 * least 1 ms after it: a claim made then finds the row due even against the database's finer clock,
 * and a batch of jittered retries costs at most one wake-up per GRANULARITY_MS, not one per row.
 */
export const GRANULARITY_MS = 25

/** Beyond this many pending wake-ups the latest are dropped (those rows wait for the poll). */
const MAX = 10_000

export interface DueTimes {
  /** Remembers retries due at these Clock millis. */
  readonly add: (times: ReadonlyArray<number>) => void
  /** Forgets the times a claim made at `now` covers. */
  readonly dropUntil: (now: number) => void
  /** The earliest time remembered, if any. */
  readonly next: () => number | undefined
}

export const make = (): DueTimes => {
  // Ascending, distinct.
  const times: Array<number> = []
  const insert = (time: number) => {
    let low = 0
    let high = times.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (times[mid]! < time) low = mid + 1
      else high = mid
    }
    if (times[low] === time) return
    times.splice(low, 0, time)
    if (times.length > MAX) times.pop()
  }
  return {
    add: (due) => {
      for (const time of due) insert(Math.ceil((time + 1) / GRANULARITY_MS) * GRANULARITY_MS)
    },
    dropUntil: (now) => {
      let n = 0
      while (n < times.length && times[n]! <= now) n++
      if (n > 0) times.splice(0, n)
    },
    next: () => times[0]
  }
}
