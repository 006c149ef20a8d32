/**
 * Scenario: a relay process frozen (SIGSTOP) mid-batch, past its lease. Another process takes the
 * rows over and delivers them; then the frozen one resumes (SIGCONT) and tries to record its late
 * results: the store must refuse every one of them (fencing by lease token), so each row says
 * exactly one attempt, and nothing is lost.
 */
import { isAlive, metric, relayConfig, SCHEMA, startFleet, stopMember } from "../lib/fleet.ts"
import { rng, sleep } from "../lib/random.ts"
import { startReceiver } from "../lib/receiver.ts"
import { awaitQuiescence } from "../lib/recorder.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter } from "../lib/writer.ts"

const BATCH = 6

export const sigstop: Scenario = {
  name: "sigstop-past-lease",
  description: "a relay frozen (SIGSTOP) past its lease, taken over, then resumed: late completions rejected",
  run: (options: RunOptions) =>
    runScenario("sigstop-past-lease", options, async (ctx) => {
      const random = rng(options.seed)
      const receiver = await startReceiver(ctx.history, { delayMs: 250 })
      ctx.cleanup.push(receiver.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const settings = { workers: 1, batchSize: BATCH, lease: "2 seconds", pollInterval: "200 millis", ordered: false }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfig(receiver.url, settings))
      ctx.cleanup.push(fleet.destroy)
      const rounds = options.long ? 5 : 1
      let frozenSent = 0
      let stale = 0
      for (let round = 0; round < rounds; round++) {
        const frozen = await fleet.spawn()
        await frozen.admin
        const seen = ctx.history.receipts.length
        await writer.run(
          { entities: 4, transactionsPerEntity: 2, maxEvents: 3, rollbackRate: 0, slowRate: 0, slowMs: 0, pauseMs: 0 },
          random,
          `r${round}-`
        )
        // Freeze it while its first batch is at the receiver (bounded wait).
        for (let i = 0; i < 500 && ctx.history.receipts.length === seen; i++) await sleep(5)
        // A lasting fault: from SIGSTOP to SIGCONT (requests already on the wire still arrive after it).
        const freeze = fleet.signal(frozen, "SIGSTOP", "while its batch is in flight")
        frozenSent += ctx.history.receipts.length - seen
        // Another process takes over once the lease has expired, and delivers everything.
        const taker = await fleet.spawn()
        if (!(await awaitQuiescence(ctx.pg.query, 20_000))) ctx.violations.push(`round ${round}: no takeover`)
        fleet.signal(frozen, "SIGCONT", "after the takeover")
        if (freeze !== undefined) ctx.history.end(freeze)
        const before = stale
        for (let i = 0; i < 100 && stale === before; i++) {
          await sleep(100)
          stale = before + (await metric(frozen, "sluice_stale_completions_total").catch(() => 0))
        }
        if (stale === before) ctx.violations.push(`round ${round}: the resumed relay recorded no stale completion`)
        if (stale - before > BATCH)
          ctx.violations.push(`round ${round}: ${stale - before} stale completions, batch is ${BATCH}`)
        if (!isAlive(frozen)) ctx.violations.push(`round ${round}: the resumed relay died`)
        // Both stop gracefully before the next round (each round starts from an idle database).
        for (const member of [taker, frozen]) {
          const { exit, hung } = await stopMember(member)
          if (hung || exit.code !== 0)
            ctx.violations.push(
              `round ${round}: ${member.name} exited ${hung ? "only when killed" : (exit.code ?? exit.signal)} on SIGTERM`
            )
        }
      }
      // Exact attempts: the late results were refused, so every row was delivered at attempt 1.
      const wrong = await ctx.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE attempts <> 1`
      )
      if ((wrong[0]?.n ?? 0) !== 0) ctx.violations.push(`${wrong[0]?.n} rows do not say exactly 1 attempt`)
      ctx.facts.rounds = rounds
      ctx.facts.sentByFrozen = frozenSent
      ctx.facts.staleCompletions = stale
      return { fleet, check: { maxAttempts: 5, ordered: false, exactAttempts: false, maxDuplicates: rounds * BATCH } }
    })
}
