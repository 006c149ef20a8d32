/**
 * Scenario: graceful drain under sustained load. While writers keep appending, relay processes get
 * SIGTERM one after another (a fresh one replaces each): every one exits 0, leaves no row leased in
 * its name, and since a drain finishes or releases its batches, nothing is delivered twice and
 * attempts are exact. Nothing is lost.
 */
import { relayConfig, SCHEMA, startFleet, stopMember } from "../lib/fleet.ts"
import { rng, sleep } from "../lib/random.ts"
import { startReceiver } from "../lib/receiver.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter } from "../lib/writer.ts"

export const drain: Scenario = {
  name: "graceful-drain",
  description: "graceful drain under sustained load: SIGTERM, exit 0, nothing lost",
  run: (options: RunOptions) =>
    runScenario("graceful-drain", options, async (ctx) => {
      const random = rng(options.seed)
      const receiver = await startReceiver(ctx.history, { delayMs: 40 })
      ctx.cleanup.push(receiver.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const settings = { workers: 2, batchSize: 10, lease: "10 seconds", pollInterval: "300 millis", ordered: true }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfig(receiver.url, settings))
      ctx.cleanup.push(fleet.destroy)
      await Promise.all([fleet.spawn(), fleet.spawn()])
      let done = false
      const writing = writer
        .run(
          {
            entities: 6,
            transactionsPerEntity: options.long ? 120 : 35,
            maxEvents: 3,
            rollbackRate: 0,
            slowRate: 0,
            slowMs: 0,
            pauseMs: 30
          },
          random
        )
        .then(() => {
          done = true
        })
      const stops = options.long ? 8 : 2
      let drained = 0
      for (let i = 0; i < stops && !done; i++) {
        await sleep(500 + random() * 500)
        for (let j = 0; j < 40 && !ctx.history.receipts.some((r) => r.doneSeq === null); j++) await sleep(10)
        const victim = fleet.live()[0]!
        const pid = victim.sluice.child.pid
        ctx.history.mark("SIGTERM", `${victim.name} under load`)
        const { exit, hung } = await stopMember(victim)
        if (hung) ctx.violations.push(`${victim.name} did not exit within 15 s of SIGTERM under load`)
        else if (exit.code !== 0)
          ctx.violations.push(`${victim.name} exited ${exit.code ?? exit.signal} on SIGTERM under load`)
        const held = await ctx.pg.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE status = 'pending' AND lease_token IS NOT NULL AND lease_owner LIKE '%/${pid}'`
        )
        if ((held[0]?.n ?? 0) > 0) ctx.violations.push(`${victim.name} exited leaving ${held[0]?.n} rows leased`)
        drained += 1
        await fleet.spawn()
      }
      await writing
      ctx.facts.drained = drained
      return { fleet, check: { maxAttempts: 5, ordered: true, exactAttempts: true, maxDuplicates: 0 } }
    })
}
