/** Short version of the chaos scenario in scenarios/terminate.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { terminate } from "./scenarios/terminate.ts"

it("pg_terminate_backend of the relays' pooled and LISTEN connections: relays survive, nothing lost", async () => {
  const report = await runShort(terminate)
  expect(report.facts.listenerTerminated).toBeGreaterThan(0)
}, 90_000)
