/**
 * End to end on PostgreSQL: the real `sluice run` process, a path-loaded source plugin, the HTTP
 * transport and a local webhook receiver. Each test has its own schema, dropped afterwards.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { removeTempDirs, webhookConfig, webhookSecret, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema, query } from "./support/database.ts"
import { startReceiver } from "./support/receiver.ts"
import { adminUrl, eventually, kill, runToEnd, type Sluice, start } from "./support/sluice.ts"

const env = { ...process.env, DATABASE_URL: databaseUrl, E2E_WEBHOOK_SECRET: webhookSecret }
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})

const startSluice = (file: string): Sluice => {
  const sluice = start(["run", "--config", file], { env })
  cleanup.push(() => kill(sluice))
  return sluice
}

const count = async (schema: string, where: string) =>
  Number((await query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE ${where}`))[0]!.n)

const eventIds = async (schema: string) =>
  (await query<{ event_id: string }>(`SELECT event_id::text FROM ${schema}.events`)).map((r) => r.event_id)

afterAll(removeTempDirs)

describe("sluice run on PostgreSQL", () => {
  it("delivers every event to the webhook; SIGTERM drains the batches in flight and exits 0", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const receiver = await startReceiver({ delayMs: 150 })
    cleanup.push(receiver.close)
    const { file } = writeConfig(webhookConfig({ schema, url: receiver.url, total: 40, batchSize: 4 }))

    const sluice = startSluice(file)
    const admin = await adminUrl(sluice)
    await eventually("the first deliveries", () => receiver.acknowledged.size >= 6)
    const ready = await fetch(`${admin}/readyz`)
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ ready: true, database: true, migrations: true })
    const metrics = await (await fetch(`${admin}/metrics`)).text()
    expect(metrics).toMatch(/sluice_delivered_total\{route="hooks"\} \d+/)
    expect(metrics).toContain('sluice_events_ingested_total{source="counter"} 40')

    sluice.child.kill("SIGTERM")
    const exit = await sluice.exited
    expect(exit).toEqual({ code: 0, signal: null })
    expect(sluice.stderr.join("\n")).toContain("sluice stopped")
    // Drained: every delivery the receiver acknowledged is recorded, and no row is left leased.
    const delivered = new Set(
      (await query<{ event_id: string }>(`SELECT event_id::text FROM ${schema}.outbox WHERE status = 'delivered'`)).map(
        (r) => r.event_id
      )
    )
    for (const id of receiver.acknowledged) expect(delivered.has(id)).toBe(true)
    expect(await count(schema, "lease_token IS NOT NULL")).toBe(0)
    expect(delivered.size).toBeGreaterThan(0)

    // A restart delivers the rest.
    const again = startSluice(file)
    await eventually("every event delivered", async () => (await count(schema, "status = 'delivered'")) === 40)
    const ids = await eventIds(schema)
    expect(ids.length).toBe(40)
    for (const id of ids) expect(receiver.received.some((d) => d.id === id)).toBe(true)
    again.child.kill("SIGTERM")
    expect((await again.exited).code).toBe(0)
  }, 60_000)

  it("SIGKILL mid-delivery loses nothing: after a restart every committed event is delivered", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const receiver = await startReceiver({ delayMs: 100 })
    cleanup.push(receiver.close)
    const { file } = writeConfig(
      webhookConfig({ schema, url: receiver.url, total: 40, batchSize: 4, lease: "2 seconds" })
    )

    const first = startSluice(file)
    await eventually("deliveries under way", () => receiver.received.length >= 6)
    first.child.kill("SIGKILL")
    expect((await first.exited).signal).toBe("SIGKILL")
    const committed = await eventIds(schema)
    expect(committed.length).toBe(40)
    expect(await count(schema, "status = 'pending'")).toBeGreaterThan(0)

    const second = startSluice(file)
    await eventually(
      "every committed event delivered",
      () => committed.every((id) => receiver.acknowledged.has(id)),
      60_000
    )
    await eventually("all rows recorded as delivered", async () => (await count(schema, "status = 'delivered'")) === 40)
    // At least once: a retry after the crash may repeat a delivery, never skip one.
    expect(new Set(receiver.received.map((d) => d.id)).size).toBe(40)
    second.child.kill("SIGTERM")
    expect((await second.exited).code).toBe(0)
  }, 150_000)

  it("two runner processes on one database share the work: each event delivered once", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const receiver = await startReceiver({ hold: true, delayMs: 20 })
    cleanup.push(receiver.close)
    const config = webhookConfig({ schema, url: receiver.url, total: 40, batchSize: 4 })
    const { file } = writeConfig({ ...config, relay: { ...config.relay, workers: 1 } })
    const [a, b] = [startSluice(file), startSluice(file)]
    const [adminA, adminB] = await Promise.all([adminUrl(a), adminUrl(b)])
    // Both relays hold a claimed batch, blocked on the receiver, before anything is answered.
    await eventually("a batch in flight from each process", () => receiver.received.length >= 8)
    receiver.release()
    await eventually("all rows delivered", async () => (await count(schema, "status = 'delivered'")) === 40, 60_000)
    expect(receiver.received.length).toBe(40)
    expect(new Set(receiver.received.map((d) => d.id)).size).toBe(40)
    const deliveredBy = async (admin: string) => {
      const metrics = await (await fetch(`${admin}/metrics`)).text()
      return Number(/sluice_delivered_total\{route="hooks"\} (\d+)/.exec(metrics)?.[1] ?? 0)
    }
    const [byA, byB] = await Promise.all([deliveredBy(adminA), deliveredBy(adminB)])
    expect(byA).toBeGreaterThan(0)
    expect(byB).toBeGreaterThan(0)
    expect(byA + byB).toBe(40)
    a.child.kill("SIGTERM")
    b.child.kill("SIGTERM")
    expect([(await a.exited).code, (await b.exited).code]).toEqual([0, 0])
  }, 150_000)

  it("migrate, status and dlq list | show | replay | purge work on the same database", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const receiver = await startReceiver({ status: (d) => (d.body.includes('"i":0') ? 200 : 422) })
    cleanup.push(receiver.close)
    const { file } = writeConfig(webhookConfig({ schema, url: receiver.url, total: 4, batchSize: 10 }))
    const cli = (...args: Array<string>) => runToEnd([...args, "--config", file], { env })

    const migrated = await cli("migrate")
    expect(migrated.code).toBe(0)
    expect(migrated.stdout).toMatch(/applied .*0001_tables\.sql/)
    expect((await cli("migrate")).stdout).toContain("up to date")

    const sluice = startSluice(file)
    await eventually("three dead letters", async () => (await count(schema, "status = 'dead'")) === 3)
    sluice.child.kill("SIGTERM")
    expect((await sluice.exited).code).toBe(0)

    const list = await cli("dlq", "list", "--json")
    expect(list.code).toBe(0)
    const dead = (
      JSON.parse(list.stdout) as { dead_letters: Array<{ outbox_id: string; route: string; last_error: string }> }
    ).dead_letters
    expect(dead.map((d) => d.route)).toEqual(["hooks", "hooks", "hooks"])
    expect(dead[0]!.last_error).toContain("HTTP 422")

    const shown = await cli("dlq", "show", dead[0]!.outbox_id)
    expect(shown.code).toBe(0)
    expect(JSON.parse(shown.stdout).event.event_type).toBe("counter.ticked")
    expect((await cli("dlq", "show", "999999")).code).toBe(1)

    const replayed = await cli("dlq", "replay", dead[0]!.outbox_id)
    expect(replayed.stdout).toContain("replayed 1 dead letter(s)")
    const status = await cli("status", "--json", "--sample", "0 seconds")
    expect(status.code).toBe(0)
    const report = JSON.parse(status.stdout) as { backlog: number; dead_letters: number; delivered: number }
    expect(report).toMatchObject({ backlog: 1, dead_letters: 2, delivered: 1 })

    expect((await cli("dlq", "purge")).code).toBe(2)
    const purged = await cli("dlq", "purge", "--yes")
    expect(purged.stdout).toContain("purged 2 dead letter(s)")
    expect(await count(schema, "status = 'dead'")).toBe(0)
    // The events themselves are immutable and stay.
    expect((await eventIds(schema)).length).toBe(4)
  }, 120_000)
})
