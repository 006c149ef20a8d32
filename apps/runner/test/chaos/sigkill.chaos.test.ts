/** Short version of the chaos scenario in scenarios/sigkill.ts (the long one runs in `pnpm test:chaos`). */
import { expect, it } from "vitest"
import { sigkill } from "./scenarios/sigkill.ts"

it("SIGKILL of relay processes mid-batch, repeatedly, while ingestion continues: nothing lost, duplicates only from killed batches", async () => {
  const report = await sigkill.run({ seed: 1, long: false })
  expect(report.violations).toEqual([])
  expect(report.counts.lost).toBe(0)
  expect(report.counts.committed).toBeGreaterThan(0)
  expect(report.facts.kills).toBeGreaterThan(0)
}, 90_000)
