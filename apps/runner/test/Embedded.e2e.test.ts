/**
 * End to end with no database server: the offline quickstart (examples/quickstart-offline.json,
 * copied with its admin server on port 0) replays recorded Yahoo responses through plugin-yfinance
 * into embedded PGlite and prints the events on stdout. DATABASE_URL is removed from the environment.
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { exampleConfig, removeTempDirs, tempDir } from "./support/config.ts"
import { adminUrl, envWithout, eventually, killedAfterEach, start } from "./support/sluice.ts"

const eventLines = (stdout: ReadonlyArray<string>) =>
  stdout
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { route: string; event: { event_type: string; entity_id: string } })

const started = killedAfterEach()
afterAll(removeTempDirs)

describe("the embedded default", () => {
  it("runs the offline quickstart on PGlite in .sluice/ beside the config, keeping state across restarts", async () => {
    const { dir, file: example } = exampleConfig("quickstart-offline.json")
    // Started from elsewhere: the data directory is relative to the config file, not to the cwd.
    const cwd = tempDir("sluice-elsewhere-")
    const first = start(["run", "--config", example], { cwd, env: envWithout() })
    started.push(first)
    await eventually("quotes and bars on stdout", () => eventLines(first.stdout).length >= 10, 60_000)
    const events = eventLines(first.stdout)
    expect(
      events
        .filter((e) => e.route === "quotes-to-console")
        .map((e) => e.event.entity_id)
        .sort()
    ).toEqual(["AAPL", "BABA"])
    expect(events.filter((e) => e.event.event_type === "bar.closed").length).toBe(8)
    expect(first.stderr.join("\n")).toContain("embedded PGlite in")
    expect(existsSync(join(dir, ".sluice", "PG_VERSION"))).toBe(true)
    expect(existsSync(join(cwd, ".sluice"))).toBe(false)
    first.child.kill("SIGTERM")
    expect(await first.exited).toEqual({ code: 0, signal: null })

    // The data directory keeps events and delivery state: a restart re-fetches the same data
    // (deterministic ids), stores nothing new and delivers nothing twice.
    const second = start(["run", "--config", example], { cwd, env: envWithout() })
    started.push(second)
    await second.waitForLine("stderr", /sluice is running/, 60_000)
    const admin = await adminUrl(second)
    // Wait until both sources have ticked and found only duplicates.
    await eventually(
      "a tick of both sources finding only known events",
      async () => {
        const metrics = await fetch(`${admin}/metrics`).then(
          (r) => r.text(),
          () => ""
        )
        return (
          metrics.includes('sluice_events_duplicate_total{source="quotes"} 2') &&
          metrics.includes('sluice_events_duplicate_total{source="bars"} 8')
        )
      },
      60_000
    )
    expect(await fetch(`${admin}/metrics`).then((r) => r.text())).toContain(
      'sluice_events_ingested_total{source="quotes"} 0'
    )
    second.child.kill("SIGTERM")
    expect((await second.exited).code).toBe(0)
    expect(eventLines(second.stdout)).toEqual([])
  }, 240_000)
})
