/**
 * Scenario: `pg_terminate_backend` of the relays' connections, alternately the pooled ones (claims,
 * completions) and the LISTEN connection, on the private cluster, while writers append. The relay
 * processes must survive (reconnect) and nothing may be lost; duplicates only where a cut
 * completion left a delivered row leased.
 */
import { isAlive } from "../lib/fleet.ts"
import { BATCH, startLoad, WORKERS } from "../lib/load.ts"
import { rng, sleep } from "../lib/random.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"

export const terminate: Scenario = {
  name: "pg-terminate-backend",
  description: "pg_terminate_backend of the relays' pooled and LISTEN connections",
  run: (options: RunOptions) =>
    runScenario("pg-terminate-backend", options, async (ctx) => {
      const random = rng(options.seed)
      const { fleet, writing, done } = await startLoad(ctx, random, {
        receiverDelayMs: 20,
        relays: 2,
        plan: { transactionsPerEntity: options.long ? 150 : 40 }
      })
      const rounds = options.long ? 30 : 5
      let cuts = 0
      let listenerCuts = 0
      for (let i = 0; i < rounds && !done(); i++) {
        await sleep(300 + random() * 500)
        const listener = i % 2 === 1
        const which = listener ? "query ILIKE 'listen%'" : "query NOT ILIKE 'listen%'"
        // A lasting fault: from before the statement until it returned (the cuts happen in between).
        const fault = ctx.history.mark("pg_terminate_backend", listener ? "listener connections" : "pooled connections")
        const killed = await ctx.pg.query<{ pid: number }>(
          // MATERIALIZED: the filter must run before pg_terminate_backend, which the planner may
          // otherwise evaluate first, on every backend (this harness's own connection included).
          `WITH victims AS MATERIALIZED (SELECT pid FROM pg_stat_activity WHERE application_name = 'sluice' AND ${which})
           SELECT pid FROM victims WHERE pg_terminate_backend(pid)`
        )
        ctx.history.end(fault)
        cuts += killed.length
        if (listener) listenerCuts += killed.length
      }
      await writing
      const dead = fleet.members.filter((m) => !isAlive(m))
      for (const m of dead) ctx.violations.push(`${m.name} died: ${m.sluice.stderr.slice(-3).join(" | ")}`)
      ctx.facts.terminated = cuts
      ctx.facts.listenerTerminated = listenerCuts
      return {
        fleet,
        check: { maxAttempts: 5, ordered: true, exactAttempts: false, maxDuplicates: cuts * WORKERS * BATCH }
      }
    })
}
