/** Short version of the chaos scenario in scenarios/restart.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { restart } from "./scenarios/restart.ts"

it("PostgreSQL restarted mid-run: relays ride it out, nothing lost", async () => {
  const report = await runShort(restart)
  expect(report.facts.restarts).toBeGreaterThan(0)
}, 90_000)
