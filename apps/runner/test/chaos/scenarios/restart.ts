/**
 * Scenario: the PostgreSQL server restarted mid-run (private cluster, `pg_ctl restart`), more than
 * once, while writers append and relays deliver. The relay processes must ride it out (reconnect; a
 * claim or completion cut by the restart is retried or its lease expires), writers retry their
 * failed appends (each in its own business transaction, which a restart cuts: it must fail with a
 * SqlError, not crash the writer; see also transactionCut.chaos.test.ts), and every committed event
 * is delivered.
 *
 * `restart` stops the server cleanly (`-m fast`: the WAL is flushed, nothing committed is lost).
 * `crash` kills it (`-m immediate`): committed WAL still in the server's buffers is lost, which a
 * claim (committed without waiting for the flush) may be: its lease is forgotten and its rows are
 * delivered again, within the duplicates a restart may cause; events and results are flushed at
 * commit and must all survive.
 */
import { isAlive } from "../lib/fleet.ts"
import { BATCH, startLoad, WORKERS } from "../lib/load.ts"
import { rng, sleep } from "../lib/random.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"

const restartScenario = (mode: "fast" | "immediate", name: string, description: string): Scenario => ({
  name,
  description,
  run: (options: RunOptions) =>
    runScenario(name, options, async (ctx) => {
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
        const fault = ctx.history.mark("restart", `pg_ctl restart -m ${mode} #${i + 1}`)
        const used = await ctx.pg.restart(mode)
        if (used !== mode) ctx.facts.fastShutdownTimedOut = Number(ctx.facts.fastShutdownTimedOut ?? 0) + 1
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
})

export const restart: Scenario = restartScenario(
  "fast",
  "postgres-restart",
  "PostgreSQL restarted mid-run (private cluster)"
)

export const crash: Scenario = restartScenario(
  "immediate",
  "postgres-crash",
  "PostgreSQL killed mid-run and restarted, losing its unflushed WAL (private cluster)"
)
