/**
 * The chaos harness's JetStream cluster (lib/natsCluster.ts): three routed nodes elect a meta
 * leader; a stream with 3 replicas keeps taking publishes when the node leading it is SIGKILLed,
 * and the node rejoins when restarted (also when its port was taken meanwhile); `stop` leaves no
 * server process behind.
 */

import { createServer } from "node:net"
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { eventually } from "../support/sluice.ts"
import { type NatsCluster, startNatsCluster } from "./lib/natsCluster.ts"
import { connectCluster, readStream } from "./lib/natsStream.ts"

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Publishes until one is acknowledged or the deadline passes (a failover takes a few seconds). */
const publishUntilAcked = async (publish: () => Promise<unknown>, timeoutMs: number): Promise<number> => {
  const deadline = Date.now() + timeoutMs
  let failures = 0
  for (;;) {
    try {
      await publish()
      return failures
    } catch (error) {
      failures += 1
      if (Date.now() > deadline) throw error
    }
  }
}

describe("NatsCluster (chaos harness)", () => {
  let cluster: NatsCluster
  beforeAll(async () => {
    cluster = await startNatsCluster()
  }, 90_000)
  afterAll(() => cluster?.stop())

  it("starts three routed nodes on distinct loopback ports with one meta leader", async () => {
    expect(new Set(cluster.servers).size).toBe(3)
    for (const url of cluster.servers) expect(url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/)
    const leader = await cluster.awaitMetaLeader()
    expect(cluster.nodes.map((n) => n.name)).toContain(leader)
  })

  it("a stream with 3 replicas takes publishes after the node leading it is killed, and the node rejoins", async () => {
    const nc = await connectCluster(cluster.servers)
    try {
      const jsm = await jetstreamManager(nc, { timeout: 10_000 })
      await jsm.streams.add({
        name: "HARNESS",
        subjects: ["harness.>"],
        num_replicas: 3,
        storage: StorageType.File,
        duplicate_window: 120_000_000_000
      })
      const js = jetstream(nc, { timeout: 10_000 })
      for (let i = 0; i < 10; i++) await js.publish("harness.a", `m${i}`, { msgID: `m${i}`, timeout: 5000 })
      const leader = (await jsm.streams.info("HARNESS")).cluster?.leader
      const victim = cluster.nodes.findIndex((n) => n.name === leader)
      expect(victim).toBeGreaterThanOrEqual(0)
      await cluster.kill(victim)
      expect(cluster.nodes[victim]!.process).toBeNull()
      for (let i = 10; i < 20; i++)
        await publishUntilAcked(() => js.publish("harness.a", `m${i}`, { msgID: `m${i}`, timeout: 2000 }), 30_000)
      // A publish repeated with the same id is stored once (the dedup window survives the failover).
      const again = await js.publish("harness.a", "m3", { msgID: "m3", timeout: 5000 })
      expect(again.duplicate).toBe(true)
      await cluster.restart(victim)
      const deadline = Date.now() + 30_000
      let replicas = (await jsm.streams.info("HARNESS")).cluster?.replicas ?? []
      while (!replicas.some((r) => r.name === leader && r.current) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200))
        replicas = (await jsm.streams.info("HARNESS")).cluster?.replicas ?? []
      }
      expect(replicas.find((r) => r.name === leader)?.current).toBe(true)
    } finally {
      await nc.close()
    }
    const read = await readStream(cluster.servers, "HARNESS")
    expect(read.map((m) => m.msgId)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`))
  }, 120_000)

  it("a restart waits for a port another process took meanwhile", async () => {
    const node = cluster.nodes[0]!
    await cluster.kill(0)
    const port = Number(new URL(node.url).port)
    const blocker = createServer()
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve))
    const restarted = cluster.restart(0)
    try {
      await eventually("the restart to hit the taken port", () =>
        node.log.some((line) => line.includes("address already in use"))
      )
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
    await restarted
    expect(node.process).not.toBeNull()
    expect(await cluster.awaitMetaLeader()).toBeTruthy()
  }, 90_000)

  it("stop kills every server process", async () => {
    const other = await startNatsCluster()
    const pids = other.nodes.map((n) => n.process?.pid ?? 0)
    expect(pids.every((pid) => pid > 0 && alive(pid))).toBe(true)
    await other.stop()
    expect(pids.filter(alive)).toEqual([])
  }, 90_000)
})
