/** Chaos harness: a small seeded PRNG (mulberry32) and a stable hash, so a seed replays a run's choices. */

export type Rng = () => number

export const rng = (seed: number): Rng => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** FNV-1a of a string, mixed with the seed: a decision that depends on its inputs only. */
export const hash = (seed: number, text: string): number => {
  let h = (0x811c9dc5 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return rng(h)()
}

export const pick = <A>(r: Rng, items: ReadonlyArray<A>): A => items[Math.floor(r() * items.length)]!

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
