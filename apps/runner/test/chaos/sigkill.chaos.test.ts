/** Short version of the chaos scenario in scenarios/sigkill.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { sigkill } from "./scenarios/sigkill.ts"

it("SIGKILL of relay processes mid-batch, repeatedly, while ingestion continues: nothing lost, duplicates only from killed batches", async () => {
  const report = await runShort(sigkill)
  expect(report.facts.kills).toBeGreaterThan(0)
}, 90_000)
