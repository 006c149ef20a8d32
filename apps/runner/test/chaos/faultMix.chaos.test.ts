/** Short version of the chaos scenario in scenarios/faultMix.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { faultMix } from "./scenarios/faultMix.ts"

it("receiver 5xx / 429 + Retry-After / timeouts / 4xx in a seeded mix: dead letters after exactly maxAttempts, with reasons; exact attempts", async () => {
  const report = await runShort(faultMix)
  expect(report.counts.deadLettered).toBeGreaterThan(0)
  expect(report.counts.duplicates).toBe(0)
}, 90_000)
