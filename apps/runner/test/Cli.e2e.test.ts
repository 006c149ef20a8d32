/**
 * The real `sluice` executable on bad input: config errors exit 2 naming the field path,
 * usage errors exit 2, `--help` and `config schema` succeed.
 */
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, writeConfig } from "./support/config.ts"
import { runToEnd } from "./support/sluice.ts"

afterAll(removeTempDirs)

describe("the sluice executable: usage and config errors", () => {
  it("a bad config exits 2 naming the field path, for run and validate", async () => {
    const { file } = writeConfig({
      transports: [{ name: "out", plugin: "console" }],
      routes: [{ name: "r", transport: "missing", topic: "t", match: ["**"] }],
      relay: { batchSize: 0 }
    })
    const run = await runToEnd(["run", "--config", file])
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('at ["relay"]["batchSize"]')
    const fixed = writeConfig({
      sources: [{ name: "q", plugin: "yfinance", options: { symbols: ["AAPL"], pollInterval: "often" } }],
      transports: [{ name: "out", plugin: "console" }],
      routes: [{ name: "r", transport: "missing", topic: "t", match: ["**"] }]
    })
    const validate = await runToEnd(["validate", fixed.file])
    expect(validate.code).toBe(2)
    expect(validate.stderr).toContain('no transport named "missing" (known: out)\n  at ["routes"][0]["transport"]')
    const plugins = writeConfig({
      sources: [{ name: "q", plugin: "yfinance", options: { symbols: ["AAPL"], pollInterval: "often" } }],
      transports: [{ name: "out", plugin: "@acme/kafka" }]
    })
    const checked = await runToEnd(["validate", plugins.file])
    expect(checked.code).toBe(2)
    expect(checked.stderr).toContain('at ["sources"][0]["options"]["pollInterval"]')
    expect(checked.stderr).toContain('unknown transport plugin "@acme/kafka"')
  }, 60_000)

  it("a missing file and unknown flags are usage errors; --help and config schema succeed", async () => {
    const missing = await runToEnd(["run", "--config", "/nonexistent/sluice.json"])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("cannot read the file: ENOENT")
    const flag = await runToEnd(["run", "--frobnicate"])
    expect(flag.code).toBe(2)
    const help = await runToEnd(["dlq", "replay", "--help"])
    expect(help.code).toBe(0)
    expect(help.stdout).toContain("--event-type")
    const schema = await runToEnd(["config", "schema"])
    expect(schema.code).toBe(0)
    expect(JSON.parse(schema.stdout).title).toBe("Sluice runner config")
    const sample = await runToEnd(["status", "--sample", "soon"])
    expect(sample.code).toBe(2)
    expect(sample.stderr).toContain("--sample: not a duration")
    const purge = await runToEnd(["dlq", "purge", "--config", "/nonexistent.json"])
    expect(purge.code).toBe(2)
    expect(purge.stderr).toContain("add --yes")
  }, 60_000)
})
