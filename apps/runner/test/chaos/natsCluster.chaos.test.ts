/** Short version of the chaos scenario in scenarios/natsCluster.ts (the long one runs in `pnpm chaos`). */
import { expect, it } from "vitest"
import { runShort } from "./lib/short.ts"
import { natsCluster } from "./scenarios/natsCluster.ts"

it("relay -> 3-node JetStream cluster, the stream's leader node and the relay killed: every committed event in the stream exactly once", async () => {
  const report = await runShort(natsCluster)
  expect(report.facts.relayKills).toBe(5)
  expect(report.facts.nodeKills).toBe(1)
  // The node died under the relay's publishes: some rows needed a second attempt.
  expect(report.facts.retriedRows).toBeGreaterThan(0)
  // Events were published more than once (retries, a killed relay's batch sent again), and yet:
  expect(report.facts.resendsSeen).toBeGreaterThan(0)
  expect(report.stream).toMatchObject({ duplicatesInStream: 0, lost: 0, deadLettered: 0 })
  expect(report.stream?.inStream).toBe(report.stream?.committed)
}, 120_000)
