/**
 * The offline quickstart run twice on one data directory: the recordings never change, so the
 * second run finds only events it already stored (same deterministic ids) and delivers nothing.
 * It must say so on every tick instead of looking hung.
 */
import { afterAll, describe, expect, it } from "vitest"
import { exampleConfig, removeTempDirs, tempDir } from "./support/config.ts"
import { envWithout, eventually, start } from "./support/sluice.ts"

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
    const { file: config } = exampleConfig("quickstart-offline.json", { dir: cwd })

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
