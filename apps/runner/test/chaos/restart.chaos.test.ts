/** Short version of the chaos scenario in scenarios/restart.ts (the long one runs in `pnpm test:chaos`). */
import { expect, it } from "vitest"
import { restart } from "./scenarios/restart.ts"

it("PostgreSQL restarted mid-run: relays ride it out, nothing lost", async () => {
  const report = await restart.run({ seed: 1, long: false })
  expect(report.violations).toEqual([])
  expect(report.counts.lost).toBe(0)
  expect(report.counts.committed).toBeGreaterThan(0)
  expect(report.facts.restarts).toBeGreaterThan(0)
}, 90_000)
