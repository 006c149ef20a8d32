/**
 * Scenario: the webhook receiver answers 5xx, 429 with Retry-After, nothing (timeouts) and 4xx in a
 * seeded random mix, decided per (event, attempt) so a seed replays the same run. Some events always
 * fail (they must be dead-lettered after exactly maxAttempts, with the last failure as reason), some
 * get a permanent 4xx (dead at once), the rest fail a few times then pass. No process dies, so the
 * attempt counts must be exact: requests carry attempts 1..n and the row says n; no duplicates.
 */

import { relayConfig, startFleet } from "../lib/fleet.ts"
import type { Answer } from "../lib/history.ts"
import { hash, rng } from "../lib/random.ts"
import { startReceiver } from "../lib/receiver.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter } from "../lib/writer.ts"

const MAX_ATTEMPTS = 4

const failure = (seed: number, key: string): Answer => {
  const x = hash(seed, `fail/${key}`)
  return x < 0.45 ? "retryable" : x < 0.8 ? "retry-after" : "timeout"
}

/** The receiver's answer: a function of (seed, event, attempt) only. */
export const mixedAnswer =
  (seed: number) =>
  (eventId: string, attempt: number): Answer => {
    const kind = hash(seed, eventId)
    const key = `${eventId}/${attempt}`
    if (kind < 0.08) return failure(seed, key) // poison: always a retryable failure
    if (kind < 0.13) return "permanent" // 422 at the first attempt
    return hash(seed, key) < 0.35 ? failure(seed, key) : "ok"
  }

export const faultMix: Scenario = {
  name: "receiver-fault-mix",
  description: "receiver 5xx / 429+Retry-After / timeouts / 4xx in a seeded random mix",
  run: (options: RunOptions) =>
    runScenario("receiver-fault-mix", options, async (ctx) => {
      const random = rng(options.seed)
      const receiver = await startReceiver(ctx.history, { delayMs: 5, answer: mixedAnswer(options.seed) })
      ctx.cleanup.push(receiver.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const settings = {
        workers: 2,
        batchSize: 10,
        lease: "6 seconds",
        pollInterval: "200 millis",
        ordered: false,
        maxAttempts: MAX_ATTEMPTS,
        // A receiver's "ok" must come back within it even on a saturated machine (at 300 ms, two
        // test runs side by side with other work made answered requests count as timeouts).
        timeoutMs: options.long ? 300 : 1500
      }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfig(receiver.url, settings))
      ctx.cleanup.push(fleet.destroy)
      await Promise.all([fleet.spawn(), fleet.spawn()])
      await writer.run(
        {
          entities: 5,
          transactionsPerEntity: options.long ? 120 : 12,
          maxEvents: 3,
          rollbackRate: 0,
          slowRate: 0,
          slowMs: 0,
          pauseMs: 20
        },
        random
      )
      return {
        fleet,
        settleMs: 60_000,
        check: { maxAttempts: MAX_ATTEMPTS, ordered: false, exactAttempts: true, maxDuplicates: 0 }
      }
    })
}
