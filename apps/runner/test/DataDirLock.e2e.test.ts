/**
 * End to end: the embedded data directory belongs to one process. While `sluice run` holds it, a
 * second `run`, `status`, `dlq purge` and `migrate` are refused (exit 1) naming the directory and
 * the holder, and the first keeps running with its data; a clean stop removes the lock file, and
 * after a SIGKILL the next opener takes it over. DATABASE_URL is removed from the environment.
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import type { SluiceConfigInput } from "../src/Config.ts"
import { counterPlugin, removeTempDirs, writeConfig } from "./support/config.ts"
import { adminUrl, envWithout, eventually, killedAfterEach, runToEnd, type Sluice, start } from "./support/sluice.ts"

const env = envWithout()
const running = killedAfterEach()
afterAll(removeTempDirs)

/** Counter events -> the console transport, on PGlite in `<dir>/data`, admin on a free port. */
const embeddedConfig = (total: number): SluiceConfigInput => ({
  store: { driver: "embedded", dataDir: "data" },
  sources: [
    {
      name: "counter",
      plugin: counterPlugin,
      options: { total, perTick: 10, prefix: "lock" },
      schedule: { every: "300 millis" }
    }
  ],
  transports: [{ name: "out", plugin: "console" }],
  routes: [{ name: "all", transport: "out", topic: "counter", match: ["counter.*"] }],
  relay: { pollInterval: "200 millis" },
  admin: { port: 0 },
  logging: { format: "json" }
})

const eventLines = (sluice: Sluice) => sluice.stdout.filter((line) => line.startsWith("{"))

/** Starts `sluice run` in `dir` and waits until it runs. */
const startRun = async (dir: string, file: string) => {
  const sluice = start(["run", "--config", file], { cwd: dir, env })
  running.push(sluice)
  const url = await adminUrl(sluice)
  await sluice.waitForLine("stderr", /sluice is running/, 60_000)
  return { sluice, url }
}

describe("the embedded data directory lock", () => {
  it("while run holds the directory, a second run, status, dlq purge and migrate are refused; the first keeps its data", async () => {
    const { dir, file } = writeConfig(embeddedConfig(30))
    const dataDir = join(dir, "data")
    const first = await startRun(dir, file)
    const pid = first.sluice.child.pid!
    await eventually("the first events delivered", () => eventLines(first.sluice).length >= 10, 60_000)

    const cli = (...args: Array<string>) => runToEnd([...args, "--config", file], { cwd: dir, env })
    const [second, status, purge, migrate] = await Promise.all([
      cli("run"),
      cli("status", "--sample", "0 seconds"),
      cli("dlq", "purge", "--yes"),
      cli("migrate")
    ])
    const held = `error: cannot open the embedded store: ${dataDir} is in use by pid ${pid} (sluice run, since `
    for (const refused of [second, status, purge, migrate]) {
      expect(refused.code).toBe(1)
      expect(refused.stderr).toContain(held)
    }
    expect(second.stderr).toMatch(/\. Stop it first$/m)
    // The suggestion keeps the flags as typed (the config flag aside).
    expect(status.stderr).toContain(
      `. Stop it first, or ask the running process: sluice status --sample "0 seconds" --admin ${first.url}`
    )
    expect(purge.stderr).toContain(`ask the running process: sluice dlq purge --yes --admin ${first.url}`)
    expect(purge.stdout).not.toContain("purged")

    // The first one still serves and delivers everything, once.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200)
    await eventually("all 30 events delivered", () => eventLines(first.sluice).length === 30, 60_000)
    first.sluice.child.kill("SIGTERM")
    expect((await first.sluice.exited).code).toBe(0)
    expect(existsSync(join(dataDir, "sluice.lock"))).toBe(false)

    const after = await cli("status", "--json", "--sample", "0 seconds")
    expect(after.code).toBe(0)
    expect(JSON.parse(after.stdout)).toMatchObject({ backlog: 0, delivered: 30, dead_letters: 0 })
    expect(existsSync(join(dataDir, "sluice.lock"))).toBe(false)
  }, 180_000)

  it("after a SIGKILL of the holder the lock file stays, and the next opener takes it over", async () => {
    const { dir, file } = writeConfig(embeddedConfig(10))
    const dataDir = join(dir, "data")
    const first = await startRun(dir, file)
    const pid = first.sluice.child.pid!
    await eventually("the events delivered", () => eventLines(first.sluice).length === 10, 60_000)
    first.sluice.child.kill("SIGKILL")
    await first.sluice.exited
    const left = JSON.parse(readFileSync(join(dataDir, "sluice.lock"), "utf8")) as { pid: number; admin_url: string }
    expect(left).toMatchObject({ pid, admin_url: first.url })

    const status = await runToEnd(["status", "--json", "--sample", "0 seconds", "--config", file], { cwd: dir, env })
    expect(status.code).toBe(0)
    expect(status.stderr).toContain("taking over the data directory lock of a process that is gone")
    expect(status.stderr).toContain(`"pid":${pid}`)
    // Every event has its row (a delivery recorded just before the SIGKILL may be pending again).
    const report = JSON.parse(status.stdout) as { backlog: number; delivered: number }
    expect(report.backlog + report.delivered).toBe(10)
    expect(existsSync(join(dataDir, "sluice.lock"))).toBe(false)
  }, 180_000)
})
