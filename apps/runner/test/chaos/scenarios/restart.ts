/**
 * Scenario: the PostgreSQL server restarted mid-run (private cluster, `pg_ctl restart -m fast`),
 * more than once, while writers append and relays deliver. The relay processes must ride it out
 * (reconnect; a claim or completion cut by the restart is retried or its lease expires), writers
 * retry their failed appends (each in its own business transaction, which a restart cuts: it must
 * fail with a SqlError, not crash the writer; see also transactionCut.chaos.test.ts), and every
 * committed event is delivered.
 */
import { isAlive } from "../lib/fleet.ts"
import { BATCH, startLoad, WORKERS } from "../lib/load.ts"
import { rng, sleep } from "../lib/random.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"

export const restart: Scenario = {
  name: "postgres-restart",
  description: "PostgreSQL restarted mid-run (private cluster)",
  run: (options: RunOptions) =>
    runScenario("postgres-restart", options, async (ctx) => {
      const random = rng(options.seed)
      const { fleet, writer, writing, done } = await startLoad(ctx, random, {
        receiverDelayMs: 20,
        relays: 2,
        plan: { transactionsPerEntity: options.long ? 150 : 40 }
      })
      const restarts = options.long ? 6 : 2
      let made = 0
      for (let i = 0; i < restarts && !done(); i++) {
        await sleep(700 + random() * 700)
        const fault = ctx.history.mark("restart", `pg_ctl restart #${i + 1}`)
        const used = await ctx.pg.restart("fast")
        if (used !== "fast") ctx.facts.fastShutdownTimedOut = Number(ctx.facts.fastShutdownTimedOut ?? 0) + 1
        ctx.history.end(fault)
        made += 1
        ctx.log(`restarted PostgreSQL (${made}/${restarts})`)
      }
      await writing
      for (const m of fleet.members.filter((x) => !isAlive(x)))
        ctx.violations.push(`${m.name} died: ${m.sluice.stderr.slice(-3).join(" | ")}`)
      ctx.facts.restarts = made
      ctx.facts.writerFailures = writer.failures.count
      return {
        fleet,
        check: { maxAttempts: 5, ordered: true, exactAttempts: false, maxDuplicates: made * 2 * WORKERS * BATCH }
      }
    })
}
