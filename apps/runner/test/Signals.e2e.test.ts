/**
 * Signals on the real process (memory store, no database): the first SIGTERM starts the drain,
 * which waits for a webhook that never answers; a second signal exits at once.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest"
import { counterPlugin, envRef, removeTempDirs, webhookSecret, writeConfig } from "./support/config.ts"
import { startReceiver } from "./support/receiver.ts"
import { envWithout, eventually, start } from "./support/sluice.ts"

const cleanup: Array<() => Promise<unknown>> = []
afterEach(async () => {
  for (const task of cleanup.splice(0).reverse()) await task()
})

afterAll(removeTempDirs)

describe("signals", () => {
  it("a second signal during the drain exits at once with 128 + signal number", async () => {
    const receiver = await startReceiver({ delayMs: 60_000 })
    cleanup.push(receiver.close)
    const { file } = writeConfig({
      store: { driver: "memory" },
      sources: [{ name: "counter", plugin: counterPlugin, options: { total: 3, perTick: 3, prefix: "sig" } }],
      transports: [
        { name: "webhook", plugin: "http", options: { url: receiver.url, secrets: [envRef("E2E_WEBHOOK_SECRET")] } }
      ],
      routes: [{ name: "hooks", transport: "webhook", topic: "t", match: ["**"] }],
      relay: { gracePeriod: "1 minute" },
      admin: { enabled: false },
      logging: { format: "json" }
    })
    const sluice = start(["run", "--config", file], { env: envWithout({ E2E_WEBHOOK_SECRET: webhookSecret }) })
    cleanup.push(async () => {
      if (sluice.child.exitCode === null) sluice.child.kill("SIGKILL")
      await sluice.exited
    })
    await eventually("a delivery in flight", () => receiver.received.length >= 1)
    sluice.child.kill("SIGTERM")
    await sluice.waitForLine("stderr", /stopping: ingest stops, the relay drains/)
    expect(sluice.child.exitCode).toBe(null)
    sluice.child.kill("SIGINT")
    expect(await sluice.exited).toEqual({ code: 130, signal: null })
    expect(sluice.stderr.join("\n")).toContain("second SIGINT, exiting now")
  }, 60_000)
})
