/**
 * End to end with no database server: the offline quickstart (examples/quickstart-offline.json)
 * replays recorded Yahoo responses through plugin-yfinance into embedded PGlite and prints the
 * events on stdout. DATABASE_URL is removed from the environment.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, tempDir } from "./support/config.ts"
import { envWithout, eventually, start } from "./support/sluice.ts"

const example = new URL("../../../examples/quickstart-offline.json", import.meta.url).pathname

/**
 * The example, copied into `dir` (its data directory goes beside the config file, so not into the
 * repository's examples/): its one relative path, the recordings, made absolute.
 */
const copyExample = (dir: string): string => {
  const config = JSON.parse(readFileSync(example, "utf8")) as { sources: Array<{ options: { recordings: string } }> }
  for (const source of config.sources) source.options.recordings = resolve(example, "..", source.options.recordings)
  const file = join(dir, "quickstart-offline.json")
  writeFileSync(file, JSON.stringify(config))
  return file
}

const eventLines = (stdout: ReadonlyArray<string>) =>
  stdout
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as { route: string; event: { event_type: string; entity_id: string } })

afterAll(removeTempDirs)

describe("the embedded default", () => {
  it("runs the offline quickstart on PGlite in .sluice/ beside the config, keeping state across restarts", async () => {
    const dir = tempDir("sluice-embedded-")
    const config = copyExample(dir)
    const cwd = tempDir("sluice-elsewhere-")
    const first = start(["run", "--config", config], { cwd, env: envWithout() })
    await eventually("quotes and bars on stdout", () => eventLines(first.stdout).length >= 10, 30_000)
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
    first.child.kill("SIGTERM")
    expect(await first.exited).toEqual({ code: 0, signal: null })

    // The data directory keeps events and delivery state: a restart re-fetches the same data
    // (deterministic ids), stores nothing new and delivers nothing twice.
    const second = start(["run", "--config", config], { cwd, env: envWithout() })
    await second.waitForLine("stderr", /sluice is running/, 30_000)
    // The example's admin port: wait until both sources have ticked and found only duplicates.
    await eventually(
      "a tick of both sources finding only known events",
      async () => {
        const metrics = await fetch("http://127.0.0.1:9465/metrics").then(
          (r) => r.text(),
          () => ""
        )
        return (
          metrics.includes('sluice_events_duplicate_total{source="quotes"} 2') &&
          metrics.includes('sluice_events_duplicate_total{source="bars"} 8')
        )
      },
      30_000
    )
    expect(await fetch("http://127.0.0.1:9465/metrics").then((r) => r.text())).toContain(
      'sluice_events_ingested_total{source="quotes"} 0'
    )
    second.child.kill("SIGTERM")
    expect((await second.exited).code).toBe(0)
    expect(eventLines(second.stdout)).toEqual([])
  }, 90_000)
})
