/** Short version of the chaos scenario in scenarios/drain.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { drain } from "./scenarios/drain.ts"

it("graceful drain under sustained load: SIGTERM exits 0, nothing lost, nothing sent twice", async () => {
  const report = await runShort(drain)
  expect(report.facts.drained).toBeGreaterThan(0)
  expect(report.counts.duplicates).toBe(0)
}, 90_000)
