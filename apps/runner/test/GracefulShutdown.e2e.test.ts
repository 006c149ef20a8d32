/**
 * SIGTERM while a webhook request is slower than the grace period, on the real process and
 * PostgreSQL: the request that went out counts an attempt, so after a restart the receiver gets the
 * event again with `sluice-attempt: 2`, not 1 a second time.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { counterPlugin, envRef, removeTempDirs, webhookSecret, writeConfig } from "./support/config.ts"
import { databaseUrl, dropSchema, freshSchema, query } from "./support/database.ts"
import { startReceiver } from "./support/receiver.ts"
import { eventually, kill, type Sluice, start } from "./support/sluice.ts"

const env = { ...process.env, DATABASE_URL: databaseUrl, E2E_WEBHOOK_SECRET: webhookSecret }
const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})
afterAll(removeTempDirs)

const startSluice = (file: string): Sluice => {
  const sluice = start(["run", "--config", file], { env })
  cleanup.push(() => kill(sluice))
  return sluice
}

describe("graceful shutdown with a request slower than the grace period", () => {
  it("the interrupted request counts attempt 1; the redelivery after a restart is attempt 2", async () => {
    const schema = freshSchema()
    cleanup.push(() => dropSchema(schema))
    // Holds every answer until released: the first request outlives the grace period.
    const receiver = await startReceiver({ hold: true })
    cleanup.push(receiver.close)
    const { file } = writeConfig({
      store: { driver: "postgres", schema, poolSize: 2 },
      sources: [{ name: "counter", plugin: counterPlugin, options: { total: 1, perTick: 1, prefix: schema } }],
      transports: [
        {
          name: "webhook",
          plugin: "@sluice/transport-http",
          options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")], timeoutMs: 60_000 }
        }
      ],
      routes: [{ name: "hooks", transport: "webhook", topic: "counter", match: ["counter.*"] }],
      relay: {
        lease: "2 minutes",
        pollInterval: "200 millis",
        gracePeriod: "1 second",
        retry: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 200 }
      },
      admin: { enabled: false },
      logging: { format: "json" }
    })

    const first = startSluice(file)
    await eventually("the first request", () => receiver.received.length >= 1, 60_000)
    first.child.kill("SIGTERM")
    expect(await first.exited).toEqual({ code: 0, signal: null })
    const logs = first.stderr.join("\n")
    expect(logs).toContain("grace period over")
    expect(logs).toContain("interrupted by shutdown after the grace period (1s)")
    const [row] = await query<{ status: string; attempts: number; last_error: string; lease_owner: string | null }>(
      `SELECT status, attempts, last_error, lease_owner FROM ${schema}.outbox`
    )
    expect(row).toEqual({
      status: "pending",
      attempts: 1,
      last_error: "interrupted by shutdown after the grace period (1s)",
      lease_owner: null
    })

    receiver.release()
    const second = startSluice(file)
    await eventually("the redelivery", () => receiver.acknowledged.size >= 1, 60_000)
    second.child.kill("SIGTERM")
    expect(await second.exited).toEqual({ code: 0, signal: null })
    expect(receiver.received.map((d) => d.attempt)).toEqual(["1", "2"])
    expect(new Set(receiver.received.map((d) => d.id)).size).toBe(1)
    const [after] = await query<{ status: string; attempts: number }>(`SELECT status, attempts FROM ${schema}.outbox`)
    expect(after).toEqual({ status: "delivered", attempts: 2 })
  }, 120_000)
})
