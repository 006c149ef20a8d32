/** Short version of the chaos scenario in scenarios/halfOpen.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { halfOpen } from "./scenarios/halfOpen.ts"

it("half-open LISTEN connection: delivery continues by polling, and SIGTERM still exits", async () => {
  const report = await runShort(halfOpen)
  expect(report.facts.bytesDropped).toBeGreaterThan(0)
}, 90_000)
