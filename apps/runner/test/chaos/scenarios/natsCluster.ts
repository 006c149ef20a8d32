/**
 * Scenario: the relay publishes to a three-node JetStream cluster (a stream with 3 replicas) while
 * the node leading the stream is SIGKILLed and restarted, and while the relay itself is SIGKILLed
 * again and again (one relay process, replaced each time). A killed relay's leased rows are sent
 * again by its replacement, and a publish cut by the node's death is retried on another node: every
 * retry carries the event id as `Nats-Msg-Id`, and the stream's duplicate window (longer than the
 * run) drops the second copy. Read back whole after the drain, the stream holds every committed
 * event exactly once; nothing is dead-lettered (two of three nodes stay up throughout).
 */
import { relayConfigWith, startFleet } from "../lib/fleet.ts"
import { type NatsCluster, startNatsCluster } from "../lib/natsCluster.ts"
import { readStream, streamLeader } from "../lib/natsStream.ts"
import { pick, rng, sleep } from "../lib/random.ts"
import { type Context, type RunOptions, runScenario, type Scenario } from "../lib/scenario.ts"
import { makeWriter, type WriterPlan } from "../lib/writer.ts"

const STREAM = "SLUICE_CHAOS"
/** Retries that outlast a stream leader's election (seconds on a busy machine), so none dies of it. */
const MAX_ATTEMPTS = 30

/** SIGKILLs the node leading the stream (any node while none leads), waits, and restarts it. */
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
  ctx.log(`restarted NATS node ${node.name}`)
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
      const writer = await makeWriter(ctx.pg.url)
      ctx.cleanup.push(writer.close)
      const transport = {
        name: "nats",
        plugin: "@sluice/transport-nats",
        options: {
          servers: [...cluster.servers],
          ensureStream: {
            name: STREAM,
            subjects: ["sluice.chaos.>"],
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
        maxDelayMs: 1000
      }
      const fleet = startFleet(ctx.history, ctx.pg.url, relayConfigWith(transport, settings))
      ctx.cleanup.push(fleet.destroy)
      await fleet.spawn()

      const plan: WriterPlan = {
        entities: 6,
        transactionsPerEntity: options.long ? 400 : 80,
        maxEvents: 3,
        rollbackRate: 0.05,
        slowRate: 0,
        slowMs: 0,
        pauseMs: 150
      }
      const written = writer.run(plan, random)

      // The NATS nodes: the stream's leader killed and restarted, `nodeKills` times over the run.
      const nodeKills = options.long ? 3 : 1
      const nodeFaults = (async () => {
        for (let i = 0; i < nodeKills; i++) {
          await sleep((options.long ? 15_000 : 2500) + faults() * 2000)
          await killNode(ctx, cluster, 2000 + faults() * 2000)
        }
      })()

      // The relay: SIGKILLed and replaced, `relayKills` times, while the writer writes.
      const relayKills = options.long ? 25 : 5
      let kills = 0
      while (kills < relayKills) {
        await sleep(600 + faults() * (options.long ? 2400 : 1200))
        const ready = fleet.ready()
        if (ready.length === 0) continue
        const victim = pick(faults, ready)
        fleet.signal(victim, "SIGKILL", "relay")
        await victim.sluice.exited
        kills += 1
        ctx.log(`killed ${victim.name} (${kills}/${relayKills})`)
        await fleet.spawn()
      }
      await Promise.all([written, nodeFaults])
      ctx.facts.relayKills = kills
      ctx.facts.nodeKills = nodeKills
      ctx.facts.writerFailures = writer.failures.count
      return {
        fleet,
        rolledBack: writer.rolledBack,
        settleMs: options.long ? 180_000 : 45_000,
        stream: () => readStream(cluster.servers, STREAM)
      }
    })
}
