/**
 * Scenario: the relay publishes to a three-node JetStream cluster (a stream with 3 replicas) while
 * the node leading the stream is SIGKILLed and restarted, and while the relay itself is SIGKILLed
 * again and again (one relay process, replaced each time). A killed relay's leased rows are sent
 * again by its replacement, and a publish cut by the node's death is retried on another node: every
 * retry carries the event id as `Nats-Msg-Id`, and the stream's duplicate window (longer than the
 * run) drops the second copy. Read back whole after the drain, the stream holds every committed
 * event exactly once; nothing is dead-lettered (two of three nodes stay up throughout).
 */
import { type Fleet, relayConfigWith, SCHEMA, startFleet } from "../lib/fleet.ts"
import { type NatsCluster, startNatsCluster } from "../lib/natsCluster.ts"
import { awaitStreamCurrent, readStream, streamLeader, watchPublishes } from "../lib/natsStream.ts"
import { pick, rng, sleep } from "../lib/random.ts"
import { type Context, type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter, type WriterPlan } from "../lib/writer.ts"

const STREAM = "SLUICE_CHAOS"
const SUBJECTS = "sluice.chaos.>"
/**
 * Retries that outlast a stream leader's election (about 5 s with nats-server 2.9, more on a busy
 * machine), so no row is dead-lettered for it: 40 attempts, backoff up to 2 s, span about a minute.
 */
const MAX_ATTEMPTS = 40

/**
 * Starts a relay as a supervisor would: one that exits at start is started again. A relay started
 * while the stream elects a leader may fail `ensureStream` (the JetStream API's timeout) and exit;
 * counted as the fact `relayStartFailures`.
 */
const spawnRelay = async (ctx: Context, fleet: Fleet): Promise<void> => {
  for (let attempt = 1; ; attempt++) {
    const started = await fleet.spawn().then(
      () => undefined,
      (error: unknown) => error
    )
    if (started === undefined) return
    ctx.facts.relayStartFailures = Number(ctx.facts.relayStartFailures ?? 0) + 1
    ctx.log(`a relay did not start (${attempt}): ${String(started)}`)
    if (attempt >= 10) throw started
    await sleep(500)
  }
}

/**
 * SIGKILLs the node leading the stream (the first node while none leads), restarts it after
 * `downMs`, and waits until it caught up: a node killed while another still catches up would leave
 * the stream without a quorum of current replicas, longer than any retry budget.
 */
const killNode = async (ctx: Context, cluster: NatsCluster, downMs: number): Promise<void> => {
  const leader = await streamLeader(cluster.servers, STREAM).catch(() => undefined)
  const index = Math.max(
    0,
    cluster.nodes.findIndex((n) => n.name === leader)
  )
  const node = cluster.nodes[index]!
  const fault = ctx.history.mark("nats-node-kill", `${node.name}${leader === node.name ? " (stream leader)" : ""}`)
  await cluster.kill(index)
  ctx.log(`killed NATS node ${node.name} (stream leader: ${leader ?? "none"})`)
  await sleep(downMs)
  await cluster.restart(index)
  ctx.history.end(fault)
  const restarted = Date.now()
  await awaitStreamCurrent(cluster.servers, STREAM, 3, 60_000)
  ctx.log(`restarted NATS node ${node.name}, current after ${Date.now() - restarted} ms`)
}

export const natsCluster: Scenario = {
  name: "nats-cluster",
  description:
    "relay -> 3-node JetStream cluster (stream with 3 replicas): the stream's leader node killed and restarted, the relay SIGKILLed repeatedly",
  run: (options: RunOptions) =>
    runScenario("nats-cluster", options, async (ctx) => {
      const random = rng(options.seed)
      const faults = rng(options.seed + 1)
      const cluster = await startNatsCluster()
      ctx.cleanup.push(cluster.stop)
      const watch = await watchPublishes(cluster.servers, SUBJECTS)
      ctx.cleanup.push(watch.close)
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const transport = {
        name: "nats",
        plugin: "@sluice/transport-nats",
        options: {
          servers: [...cluster.servers],
          ensureStream: {
            name: STREAM,
            subjects: [SUBJECTS],
            replicas: 3,
            // Longer than the whole run: a redelivery inside it is dropped, never stored twice.
            duplicateWindow: options.long ? "1 hour" : "10 minutes",
            storage: "file"
          },
          publishTimeout: "2 seconds",
          maxInFlight: 64
        }
      }
      const settings = {
        workers: 2,
        batchSize: 16,
        lease: "3 seconds",
        pollInterval: "200 millis",
        ordered: true,
        maxAttempts: MAX_ATTEMPTS,
        maxDelayMs: 2000
      }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfigWith(transport, settings))
      ctx.cleanup.push(fleet.destroy)
      await spawnRelay(ctx, fleet)

      const plan: WriterPlan = {
        entities: 6,
        transactionsPerEntity: options.long ? 600 : 80,
        maxEvents: 3,
        rollbackRate: 0.05,
        slowRate: 0,
        slowMs: 0,
        pauseMs: 150
      }
      const written = writer.run(plan, random)

      // One schedule of faults, one at a time, so a node dies while the relay publishes: the
      // stream's leader node killed and restarted first (and again every 8 relay kills in the long
      // run), the relay SIGKILLed and replaced after a short while of publishing, mid-batch: just
      // after a publish was seen, before the relay could record it (so its replacement resends).
      const relayKills = options.long ? 25 : 5
      const schedule = Array.from({ length: relayKills }, (_, i) =>
        i % 8 === 0 ? ["node", "relay"] : ["relay"]
      ).flat()
      let kills = 0
      let nodeKills = 0
      for (const fault of schedule) {
        await sleep(options.long ? 600 + faults() * 2400 : 400 + faults() * 800)
        if (fault === "node") {
          await killNode(ctx, cluster, options.long ? 2000 + faults() * 2000 : 1000 + faults() * 1000)
          nodeKills += 1
          continue
        }
        const victim = pick(faults, fleet.ready())
        await watch.next(2000)
        fleet.signal(victim, "SIGKILL", "relay")
        await victim.sluice.exited
        kills += 1
        ctx.log(`killed ${victim.name} (${kills}/${relayKills})`)
        await spawnRelay(ctx, fleet)
      }
      await written
      ctx.facts.relayKills = kills
      ctx.facts.nodeKills = nodeKills
      ctx.facts.writerFailures = writer.failures.count
      return {
        fleet,
        rolledBack: writer.rolledBack,
        settleMs: options.long ? 180_000 : 45_000,
        ordered: settings.ordered,
        stream: async () => {
          // After the drain: rows that needed more than one attempt (a publish failed under the
          // node's death; a killed relay's resend does not count one).
          const retried = await ctx.pg.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM ${SCHEMA}.outbox WHERE attempts > 1`
          )
          ctx.facts.retriedRows = retried[0]?.n ?? 0
          // Publishes a subscriber saw beyond the first of each event: resends (a retry after the
          // node's death, a killed relay's batch sent again) that the stream's window dropped.
          const seen = [...watch.seen.values()]
          ctx.facts.publishesSeen = seen.reduce((a, n) => a + n, 0)
          ctx.facts.resendsSeen = seen.reduce((a, n) => a + n - 1, 0)
          return readStream(cluster.servers, STREAM)
        }
      }
    })
}
