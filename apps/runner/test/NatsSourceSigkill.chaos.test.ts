/**
 * The NATS source's proof on the real process: a producer publishes messages with ids to a stream
 * on a private nats-server while two `sluice run` processes share its durable consumer, one of them
 * SIGKILLed again and again and restarted. Afterwards PostgreSQL holds exactly one event per message and each raw payload once:
 * messages are acked only after their commit, and a redelivered message is a duplicate.
 *
 * 5,000 messages here (under a minute on a busy machine); SLUICE_NATS_SIGKILL_MESSAGES=50000 runs
 * the full size.
 */

import { jetstream, jetstreamManager } from "@nats-io/jetstream"
import { headers as natsHeaders } from "@nats-io/nats-core"
import { connect } from "@nats-io/transport-node"
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema, query } from "./support/database.ts"
import { startNatsServer } from "./support/natsServer.ts"
import { eventually, kill, type Sluice, start } from "./support/sluice.ts"

const total = Number(process.env.SLUICE_NATS_SIGKILL_MESSAGES ?? 5_000)
const env = { ...process.env, DATABASE_URL: databaseUrl }
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

const runners: Array<Sluice> = []
const startSluice = (file: string): Sluice => {
  const sluice = start(["run", "--config", file], { env })
  runners.push(sluice)
  cleanup.push(() => kill(sluice))
  return sluice
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

const count = async (sql: string): Promise<number> => Number((await query<{ n: string }>(sql))[0]?.n ?? 0)

describe("NATS source under SIGKILL", () => {
  it(`${total} messages published while one of two runners sharing the durable is SIGKILLed repeatedly: one event and one raw payload each`, async () => {
    const server = await startNatsServer()
    cleanup.push(server.stop)
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const nc = await connect({ servers: server.url, noAsyncTraces: true })
    cleanup.push(() => nc.close())
    const jsm = await jetstreamManager(nc)
    await jsm.streams.add({ name: "ORDERS", subjects: ["orders.>"] })
    const js = jetstream(nc)

    const { file } = writeConfig({
      store: { driver: "postgres", schema, poolSize: 2 },
      sources: [
        {
          name: "orders",
          plugin: "@sluice/source-nats",
          options: {
            servers: [server.url],
            stream: "ORDERS",
            consumer: "ingest",
            // Short, so what a killed runner held comes back quickly.
            ackWait: "2 seconds",
            idleWait: "1 second",
            batchSize: 256,
            mapping: { eventType: "order.placed", entityType: "order" }
          }
        }
      ],
      admin: { enabled: false },
      logging: { format: "json" }
    })

    // The producer: ids on every message, in waves of concurrent publishes spread over about 10 s,
    // so the kills land while messages flow.
    const waves = Math.ceil(total / 250)
    const gap = Math.max(20, Math.floor(10_000 / waves))
    let published = 0
    let kills = 0
    const producing = (async () => {
      for (let from = 0; from < total; from += 250) {
        // The last quarter waits for the third kill: on a slow machine restarting a runner takes
        // seconds, and the steady runner would otherwise store everything before three kills.
        while (from >= 0.75 * total && kills < 3) await pause(50)
        const wave: Array<Promise<unknown>> = []
        for (let i = from; i < Math.min(total, from + 250); i++) {
          const h = natsHeaders()
          h.set("Nats-Msg-Id", `order-${i}`)
          wave.push(js.publish(`orders.${i}`, JSON.stringify({ n: i, pad: "x".repeat(100) }), { headers: h }))
        }
        await Promise.all(wave)
        published = Math.min(total, from + 250)
        await pause(gap)
      }
    })()

    // A second runner on the same durable the whole time: the two share its messages.
    const steady = startSluice(file)
    // Kill the other while it ingests: once it stored messages itself, at a random point of a batch;
    // at least 3 times, and on through the ingest (up to 10 kills or 90% of the messages stored).
    let killedWhileIngesting = 0
    const stored = () => count(`SELECT count(*) AS n FROM ${schema}.events`).catch(() => 0)
    while (published < total || kills < 3 || (kills < 10 && (await stored()) < 0.9 * total)) {
      const runner = startSluice(file)
      // Its own tick summary with new events (none may come once the stream is drained).
      const ingesting = await runner
        .waitForLine("stderr", /"events":[1-9]/, 20_000)
        .then(() => true)
        .catch(() => false)
      if (ingesting) killedWhileIngesting++
      await pause(Math.floor(Math.random() * 300))
      runner.child.kill("SIGKILL")
      await runner.exited
      kills++
      if ((await count(`SELECT count(*) AS n FROM ${schema}.events`).catch(() => 0)) >= total) break
    }
    await producing

    const last = startSluice(file)
    await eventually(
      `all ${total} events`,
      async () => (await count(`SELECT count(*) AS n FROM ${schema}.events`)) >= total,
      120_000
    )
    // Redeliveries still due (held by a killed runner) arrive as duplicates within ackWait.
    await eventually(
      "nothing left unacked",
      async () => {
        const info = await jsm.consumers.info("ORDERS", "ingest")
        return info.num_ack_pending === 0 && info.num_pending === 0
      },
      60_000
    )
    for (const runner of [last, steady]) runner.child.kill("SIGTERM")
    await Promise.all([last.exited, steady.exited])

    expect(kills).toBeGreaterThanOrEqual(3)
    expect(killedWhileIngesting).toBeGreaterThan(0)
    const [events] = await query<{ n: string; entities: string }>(
      `SELECT count(*) AS n, count(DISTINCT entity_id) AS entities FROM ${schema}.events`
    )
    expect([Number(events?.n), Number(events?.entities)]).toEqual([total, total])
    const [raws] = await query<{ n: string; ids: string; failed: string }>(
      `SELECT count(*) AS n, count(DISTINCT request->>'id') AS ids, count(transform_error) AS failed
       FROM ${schema}.raw_payloads WHERE source = 'orders'`
    )
    expect([Number(raws?.n), Number(raws?.ids), Number(raws?.failed)]).toEqual([total, total, 0])
    // Every event points at its message's raw payload.
    expect(
      await count(
        `SELECT count(*) AS n FROM ${schema}.events e JOIN ${schema}.raw_payloads r USING (raw_id)
         WHERE r.request->>'id' = 'msg-id:order-' || e.entity_id`
      )
    ).toBe(total)
    // What the kills caused, for the record: messages stored on a later delivery than their first,
    // and redeliveries of stored messages (killed between commit and ack) found to be duplicates.
    const later = await count(
      `SELECT count(*) AS n FROM ${schema}.raw_payloads WHERE (request->>'deliveries')::int > 1`
    )
    const duplicates = runners
      .flatMap((r) => r.stderr)
      .map((line) => /"duplicates":(\d+)/.exec(line)?.[1])
      .reduce((sum, n) => sum + Number(n ?? 0), 0)
    // The steady runner stored its share of the messages (the durable is shared, not copied).
    const steadyEvents = steady.stderr
      .map((line) => /"events":(\d+)/.exec(line)?.[1])
      .reduce((sum, n) => sum + Number(n ?? 0), 0)
    expect(steadyEvents).toBeGreaterThan(0)
    expect(steadyEvents).toBeLessThan(total)
    console.log(
      JSON.stringify({
        total,
        kills,
        killedWhileIngesting,
        steadyEvents,
        storedOnARedelivery: later,
        duplicatesSeen: duplicates
      })
    )
  }, 240_000)
})
