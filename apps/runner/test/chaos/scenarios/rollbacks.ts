/**
 * Scenario: writers append in their own transactions, some held open (slow commits) and some rolled
 * back on purpose, interleaved with fast ones, while relays deliver on an ordered route. Nothing from
 * a rolled-back transaction is ever stored or sent; nothing committed is skipped (a slow commit whose
 * rows have lower ids than rows already delivered is still delivered); per-entity order holds; no
 * duplicates, exact attempts.
 */
import { relayConfig, startFleet } from "../lib/fleet.ts"
import { rng } from "../lib/random.ts"
import { startReceiver } from "../lib/receiver.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter } from "../lib/writer.ts"

export const rollbacks: Scenario = {
  name: "slow-commits-and-rollbacks",
  description: "writers with slow commits and rollbacks interleaved (user transactions)",
  run: (options: RunOptions) =>
    runScenario("slow-commits-and-rollbacks", options, async (ctx) => {
      const random = rng(options.seed)
      const receiver = await startReceiver(ctx.history, { delayMs: 5 })
      ctx.cleanup.push(receiver.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const settings = { workers: 2, batchSize: 10, lease: "6 seconds", pollInterval: "300 millis", ordered: true }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfig(receiver.url, settings))
      ctx.cleanup.push(fleet.destroy)
      await Promise.all([fleet.spawn(), fleet.spawn()])
      await writer.run(
        {
          entities: 8,
          transactionsPerEntity: options.long ? 150 : 25,
          maxEvents: 3,
          rollbackRate: 0.3,
          slowRate: 0.3,
          slowMs: 250,
          pauseMs: 15
        },
        random
      )
      ctx.facts.rolledBackEvents = writer.rolledBack.size
      ctx.facts.committedTransactions = writer.committedTransactions.count
      if (writer.failures.count > 0)
        ctx.violations.push(`${writer.failures.count} writer transactions failed: ${writer.failures.last}`)
      return {
        fleet,
        rolledBack: writer.rolledBack,
        check: { maxAttempts: 5, ordered: true, exactAttempts: true, maxDuplicates: 0 }
      }
    })
}
