/** Short version of the chaos scenario in scenarios/rollbacks.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { rollbacks } from "./scenarios/rollbacks.ts"

it("slow commits and rollbacks in user transactions: nothing rolled back is sent, nothing committed is skipped, order holds", async () => {
  const report = await runShort(rollbacks)
  expect(report.facts.rolledBackEvents).toBeGreaterThan(0)
  expect(report.counts.duplicates).toBe(0)
}, 90_000)
