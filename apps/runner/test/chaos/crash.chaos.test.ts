/** Short version of the `crash` chaos scenario in scenarios/restart.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { crash } from "./scenarios/restart.ts"

it("PostgreSQL killed mid-run (unflushed WAL lost): relays ride it out, nothing lost", async () => {
  const report = await runShort(crash)
  expect(report.facts.restarts).toBeGreaterThan(0)
}, 90_000)
