/**
 * Scenario: the PostgreSQL server restarted mid-run (private cluster, `pg_ctl restart -m fast`),
 * more than once, while writers append and relays deliver. The relay processes must ride it out
 * (reconnect; a claim or completion cut by the restart is retried or its lease expires), writers
 * retry their failed appends, and every committed event is delivered. (Writers use bare appends
 * here: a user transaction cut by a restart crashed the whole writer process, see
 * transactionCut.chaos.test.ts.)
 */
import { isAlive, relayConfig, startFleet } from "../lib/fleet.ts"
import { rng, sleep } from "../lib/random.ts"
import { startReceiver } from "../lib/receiver.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter } from "../lib/writer.ts"

const WORKERS = 2
const BATCH = 8

export const restart: Scenario = {
  name: "postgres-restart",
  description: "PostgreSQL restarted mid-run (private cluster)",
  run: (options: RunOptions) =>
    runScenario("postgres-restart", options, async (ctx) => {
      const random = rng(options.seed)
      const receiver = await startReceiver(ctx.history, { delayMs: 20 })
      ctx.cleanup.push(receiver.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const settings = {
        workers: WORKERS,
        batchSize: BATCH,
        lease: "3 seconds",
        pollInterval: "300 millis",
        ordered: true
      }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfig(receiver.url, settings))
      ctx.cleanup.push(fleet.destroy)
      await Promise.all([fleet.spawn(), fleet.spawn()])
      let done = false
      const writing = writer
        .run(
          {
            entities: 6,
            transactionsPerEntity: options.long ? 150 : 40,
            maxEvents: 3,
            rollbackRate: 0,
            slowRate: 0,
            slowMs: 0,
            pauseMs: 40,
            ownTransaction: false
          },
          random
        )
        .then(() => {
          done = true
        })
      const restarts = options.long ? 6 : 2
      let made = 0
      for (let i = 0; i < restarts && !done; i++) {
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
