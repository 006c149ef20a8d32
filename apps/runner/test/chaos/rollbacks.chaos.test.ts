/** Short version of the chaos scenario in scenarios/rollbacks.ts (the long one runs in `pnpm test:chaos`). */
import { expect, it } from "vitest"
import { rollbacks } from "./scenarios/rollbacks.ts"

it("slow commits and rollbacks in user transactions: nothing rolled back is sent, nothing committed is skipped, order holds", async () => {
  const report = await rollbacks.run({ seed: 1, long: false })
  expect(report.violations).toEqual([])
  expect(report.counts.lost).toBe(0)
  expect(report.counts.committed).toBeGreaterThan(0)
  expect(report.facts.rolledBackEvents).toBeGreaterThan(0)
  expect(report.counts.duplicates).toBe(0)
}, 90_000)
