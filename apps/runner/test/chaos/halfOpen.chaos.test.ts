/** Short version of the chaos scenario in scenarios/halfOpen.ts (the long one runs in `pnpm test:chaos`). */
import { expect, it } from "vitest"
import { halfOpen } from "./scenarios/halfOpen.ts"

it("half-open LISTEN connection: delivery continues by polling, and SIGTERM still exits", async () => {
  const report = await halfOpen.run({ seed: 1, long: false })
  expect(report.violations).toEqual([])
  expect(report.counts.lost).toBe(0)
  expect(report.counts.committed).toBeGreaterThan(0)
  expect(report.facts.bytesDropped).toBeGreaterThan(0)
}, 90_000)
