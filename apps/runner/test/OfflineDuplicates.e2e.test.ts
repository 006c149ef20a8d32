/**
 * The offline quickstart run twice on one data directory: the recordings never change, so the
 * second run finds only events it already stored (same deterministic ids) and delivers nothing.
 * It must say so on every tick instead of looking hung.
 */
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, tempDir } from "./support/config.ts"
import { envWithout, eventually, start } from "./support/sluice.ts"

const example = new URL("../../../examples/quickstart-offline.json", import.meta.url)

interface Options {
  recordings: string
}
interface Example {
  sources: Array<{ options: Options }>
  admin: { port: number }
}

/** examples/quickstart-offline.json in `dir`: recordings by absolute path, admin on a free port. */
const offlineConfig = (dir: string): string => {
  const config = JSON.parse(readFileSync(example, "utf8")) as Example
  for (const source of config.sources) source.options.recordings = new URL(source.options.recordings, example).pathname
  config.admin.port = 0
  const file = join(dir, "sluice.json")
  writeFileSync(file, JSON.stringify(config, null, 2))
  return file
}

interface LogLine {
  readonly message: string
  readonly source?: string
}
const tickLines = (stderr: ReadonlyArray<string>): Array<LogLine> =>
  stderr
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as LogLine)
    .filter((line) => line.message.startsWith("fetched "))

const eventCount = (stdout: ReadonlyArray<string>) => stdout.filter((line) => line.startsWith("{")).length

afterAll(removeTempDirs)

describe("the offline quickstart, run twice on the same data", () => {
  it("the second run says every tick finds only duplicates", async () => {
    const cwd = tempDir("sluice-offline-twice-")
    const config = offlineConfig(cwd)

    const first = start(["run", "--config", config], { cwd, env: envWithout() })
    await eventually("10 events delivered", () => eventCount(first.stdout) >= 10, 60_000)
    const firstTicks = tickLines(first.stderr)
    expect(firstTicks).toContainEqual(
      expect.objectContaining({ source: "quotes", message: "fetched 1 payload: 2 new events, 0 duplicates" })
    )
    first.child.kill("SIGTERM")
    expect(await first.exited).toEqual({ code: 0, signal: null })

    const second = start(["run", "--config", config], { cwd, env: envWithout() })
    const said = (source: string, message: string) =>
      tickLines(second.stderr).some((line) => line.source === source && line.message === message)
    await eventually(
      "both sources reporting duplicates",
      () =>
        said("quotes", "fetched 1 payload: all 2 events already stored (duplicates), nothing new to deliver") &&
        said("bars", "fetched 4 payloads: all 8 events already stored (duplicates), nothing new to deliver"),
      60_000
    )
    second.child.kill("SIGTERM")
    expect((await second.exited).code).toBe(0)
    expect(eventCount(second.stdout)).toBe(0)
  }, 150_000)
})
