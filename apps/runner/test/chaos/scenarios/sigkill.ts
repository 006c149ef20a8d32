/**
 * Scenario: relay processes are SIGKILLed mid-batch, again and again, while ingestion continues.
 * Each killed process is replaced. Leases of the killed batches expire and other relays deliver
 * them: nothing is lost; duplicates are only events a killed process had in flight (bounded by
 * kills x workers x batch size, each with the kill between the two deliveries); per-entity order
 * holds on the ordered route.
 */
import { BATCH, startLoad, WORKERS } from "../lib/load.ts"
import { pick, rng, sleep } from "../lib/random.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"

export const sigkill: Scenario = {
  name: "sigkill-mid-batch",
  description: "SIGKILL of relay processes mid-batch, repeatedly, while ingestion continues",
  run: (options: RunOptions) =>
    runScenario("sigkill-mid-batch", options, async (ctx) => {
      const random = rng(options.seed)
      const { fleet, writer, writing, done } = await startLoad(ctx, random, {
        receiverDelayMs: 25,
        relays: 3,
        plan: { transactionsPerEntity: options.long ? 300 : 40 }
      })
      const maxKills = options.long ? 25 : 4
      let kills = 0
      const starting: Array<Promise<unknown>> = []
      const deadline = Date.now() + (options.long ? 180_000 : 30_000)
      while (kills < maxKills && Date.now() < deadline && !(done() && kills > 0)) {
        await sleep(300 + random() * 700)
        // Mid-batch: wait (bounded) until a request is in flight at the receiver.
        for (let i = 0; i < 40 && !ctx.history.receipts.some((r) => r.doneSeq === null); i++) await sleep(10)
        // Keep at least one other relay alive (replacements start in the background).
        for (let i = 0; i < 200 && fleet.ready().length < 2; i++) await sleep(50)
        if (fleet.ready().length === 0) continue
        const victim = pick(random, fleet.ready())
        fleet.signal(victim, "SIGKILL", "mid-batch")
        await victim.sluice.exited
        kills += 1
        ctx.log(`killed ${victim.name} (${kills}/${maxKills})`)
        starting.push(
          fleet.spawn().catch((e: unknown) => ctx.violations.push(`a replacement did not start: ${String(e)}`))
        )
      }
      await writing
      await Promise.all(starting)
      ctx.facts.kills = kills
      ctx.facts.writerFailures = writer.failures.count
      return {
        fleet,
        check: { maxAttempts: 5, ordered: true, exactAttempts: false, maxDuplicates: kills * WORKERS * BATCH }
      }
    })
}
