/**
 * `relay.processes: 2` on PostgreSQL: `sluice run` starts a relay-only process beside itself; the
 * two deliver every event exactly once with one attempt each, a relay process killed is started
 * again, and stopping `sluice run` stops it too.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { removeTempDirs, webhookConfig, webhookSecret, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema, query } from "./support/database.ts"
import { startReceiver } from "./support/receiver.ts"
import { eventually, type Sluice, start } from "./support/sluice.ts"

const env = { ...process.env, DATABASE_URL: databaseUrl, E2E_WEBHOOK_SECRET: webhookSecret }
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** The pids of the relay processes `sluice` said it started, in order. */
const started = (sluice: Sluice): ReadonlyArray<number> =>
  sluice.stderr
    .filter((line) => line.includes("relay process started"))
    .map((line) => Number(/"pid":(\d+)/.exec(line)?.[1]))

describe("relay.processes", () => {
  it("two processes deliver every event once; a killed relay process is started again and stopped with sluice", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    const receiver = await startReceiver()
    cleanup.push(receiver.close)
    const total = 300
    const config = webhookConfig({ schema, url: receiver.url, total, batchSize: 20 })
    const { file } = writeConfig({
      ...config,
      relay: { ...config.relay, processes: 2 },
      admin: { enabled: false }
    })
    const sluice = start(["run", "--config", file], { env })
    const relays = () => started(sluice)
    cleanup.push(async () => {
      for (const pid of relays()) if (alive(pid)) process.kill(pid, "SIGKILL")
      if (sluice.child.exitCode === null && sluice.child.signalCode === null) sluice.child.kill("SIGKILL")
      await sluice.exited
    })

    // The schema exists once sluice has migrated it.
    const delivered = () =>
      query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.outbox WHERE status = 'delivered'`).then(
        (rows) => rows[0]?.n === total,
        () => false
      )
    // Recorded, not only acknowledged: a relay killed before recording would send its rows again.
    await eventually("every event delivered", delivered, 60_000)
    const [first] = relays()
    expect(first).toBeGreaterThan(0)
    expect(alive(first!)).toBe(true)

    process.kill(first!, "SIGKILL")
    await sluice.waitForLine("stderr", /relay process exited; starting it again/)
    await eventually("the relay process started again", () => relays().length === 2, 30_000)
    const second = relays()[1]!
    expect(second).not.toBe(first)

    sluice.child.kill("SIGTERM")
    expect(await sluice.exited).toEqual({ code: 0, signal: null })
    expect(alive(second)).toBe(false)
    const rows = await query<{ status: string; attempts: number; n: number }>(
      `SELECT status, attempts, count(*)::int AS n FROM ${schema}.outbox GROUP BY status, attempts`
    )
    expect(rows).toEqual([{ status: "delivered", attempts: 1, n: total }])
    expect(receiver.received.length).toBe(total)
  }, 120_000)
})
