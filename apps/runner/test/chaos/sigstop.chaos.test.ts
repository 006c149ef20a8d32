/** Short version of the chaos scenario in scenarios/sigstop.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { sigstop } from "./scenarios/sigstop.ts"

it("a relay frozen past its lease is taken over; when it resumes its late completions are rejected and attempts stay exact", async () => {
  const report = await runShort(sigstop)
  expect(report.facts.staleCompletions).toBeGreaterThan(0)
}, 90_000)
