/**
 * Scenario: the relays' LISTEN connection goes half-open (a local TCP proxy silently drops its
 * traffic both ways; the socket stays open). Notifications never arrive, so relays must fall back
 * to polling: every wave of events appended after the black hole is delivered, each within a bound
 * of a few poll intervals (a generous bound: it fails only if delivery depended on notifications).
 */
import { isAlive, relayConfig, startFleet } from "../lib/fleet.ts"
import { startProxy } from "../lib/proxy.ts"
import { rng, sleep } from "../lib/random.ts"
import { startReceiver } from "../lib/receiver.ts"
import { pendingCount } from "../lib/recorder.ts"
import { type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter } from "../lib/writer.ts"

const POLL_MS = 500
/** A wave must be delivered within this many poll intervals (plus a start-up allowance). */
const BOUND_MS = POLL_MS * 8 + 2000

export const halfOpen: Scenario = {
  name: "half-open-listen",
  description: "half-open LISTEN connection (traffic silently dropped): delivery continues by polling",
  run: (options: RunOptions) =>
    runScenario("half-open-listen", options, async (ctx) => {
      const random = rng(options.seed)
      const receiver = await startReceiver(ctx.history, { delayMs: 5 })
      ctx.cleanup.push(receiver.close)
      const proxy = await startProxy(ctx.pg.port)
      ctx.cleanup.push(proxy.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const viaProxy = `postgres://postgres@127.0.0.1:${proxy.port}/postgres`
      const settings = {
        workers: 2,
        batchSize: 20,
        lease: "10 seconds",
        pollInterval: `${POLL_MS} millis`,
        ordered: false
      }
      const fleet = startFleet(ctx.history, viaProxy, relayConfig(receiver.url, settings))
      ctx.cleanup.push(fleet.destroy)
      await Promise.all([fleet.spawn(), fleet.spawn()])
      const plan = {
        entities: 3,
        transactionsPerEntity: 3,
        maxEvents: 3,
        rollbackRate: 0,
        slowRate: 0,
        slowMs: 0,
        pauseMs: 0
      }
      // Wave 0 with working notifications: the relays are listening once it is delivered.
      await writer.run(plan, random, "w0-")
      for (let i = 0; i < 100 && ((await pendingCount(ctx.pg.query)) > 0 || proxy.listeners() < 2); i++)
        await sleep(100)
      ctx.facts.listenConnections = proxy.listeners()
      if (proxy.listeners() < 2)
        ctx.violations.push(`only ${proxy.listeners()} LISTEN connection(s) seen through the proxy`)
      ctx.history.mark("note", "black hole")
      proxy.blackhole()
      const waves = options.long ? 12 : 3
      let worst = 0
      for (let w = 1; w <= waves; w++) {
        await sleep(POLL_MS * (1 + random()))
        const start = Date.now()
        await writer.run(plan, random, `w${w}-`)
        while ((await pendingCount(ctx.pg.query)) > 0 && Date.now() - start < BOUND_MS) await sleep(50)
        const took = Date.now() - start
        worst = Math.max(worst, took)
        if ((await pendingCount(ctx.pg.query)) > 0)
          ctx.violations.push(`wave ${w} not delivered within ${BOUND_MS} ms of polling`)
      }
      ctx.facts.waves = waves
      ctx.facts.worstWaveMs = worst
      ctx.facts.bytesDropped = proxy.dropped()
      for (const m of fleet.members.filter((x) => !isAlive(x))) ctx.violations.push(`${m.name} died`)
      return { fleet, check: { maxAttempts: 5, ordered: false, exactAttempts: true, maxDuplicates: 0 } }
    })
}
