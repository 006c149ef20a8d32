/**
 * The real `sluice` executable on configs a new user gets wrong: database URLs checked before
 * postgres.js sees them, every problem of a file in one pass, a plugin that throws on import,
 * store commands without transport secrets, paths relative to the config file, and the CLI's
 * consistency (validate --config, --limit, dlq replay of unknown ids, usage errors, comments).
 */
import { once } from "node:events"
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs"
import { createServer } from "node:net"
import { join, relative } from "node:path"
import { shippedRecordings } from "@sluice/plugin-yfinance/replay"
import { afterAll, describe, expect, it } from "vitest"
import { counterPlugin, envRef, removeTempDirs, tempDir, writeConfig } from "./support/config.ts"
import { envWithout, eventually, runToEnd, start } from "./support/sluice.ts"

afterAll(removeTempDirs)

const throwingPlugin = new URL("./fixtures/throwing-source.ts", import.meta.url).pathname
const memoryStore = { driver: "memory" } as const

describe("database URLs are checked with the config", () => {
  it("DATABASE_URL that is not a URL, has a stray '%' or is mysql:// exits 2 naming it, never printing it", async () => {
    const { file } = writeConfig({ store: { driver: "postgres" }, admin: { enabled: false } })
    const notUrl = { env: envWithout({ DATABASE_URL: "not a url" }) }
    const validate = await runToEnd(["validate", "--config", file], notUrl)
    expect(validate.code).toBe(2)
    expect(validate.stderr).toContain("DATABASE_URL (environment): not a URL")
    const run = await runToEnd(["run", "--config", file], notUrl)
    expect(run.code).toBe(2)
    expect(run.stderr).toContain("DATABASE_URL (environment): not a URL")
    expect(run.stderr).not.toContain("TypeError")

    const percent = await runToEnd(["run", "--config", file], {
      env: envWithout({ DATABASE_URL: "postgres://sluice:hunter%2@127.0.0.1:5432/db" })
    })
    expect(percent.code).toBe(2)
    expect(percent.stderr).toContain("the password has a '%' that is not a percent-escape")
    expect(percent.stderr).not.toContain("URIError")
    expect(percent.stderr + percent.stdout).not.toContain("hunter")

    const mysql = await runToEnd(["status", "--config", file], {
      env: envWithout({ DATABASE_URL: "mysql://sluice:hunter2@127.0.0.1/db" })
    })
    expect(mysql.code).toBe(2)
    expect(mysql.stderr).toContain("a mysql:// URL: only postgres:// and postgresql:// URLs are supported")
    expect(mysql.stderr).not.toContain("hunter2")

    const inFile = writeConfig({ store: { url: "mysql://sluice:hunter2@127.0.0.1/db" }, admin: { enabled: false } })
    const fromFile = await runToEnd(["validate", "--config", inFile.file], { env: envWithout() })
    expect(fromFile.code).toBe(2)
    expect(fromFile.stderr).toContain("store.url: a mysql:// URL")
    expect(fromFile.stderr).toContain('at ["store"]["url"]')
    expect(fromFile.stderr).not.toContain("hunter2")
  }, 60_000)
})

describe("config errors in one pass", () => {
  it("a file with problems in the file, the environment and the plugins reports them all at once", async () => {
    const { file } = writeConfig({
      store: memoryStore,
      sources: [
        { name: "q", plugin: "yfinance", options: { symbols: [] } },
        { name: "q", plugin: "@acme/kafka-source" }
      ],
      transports: [
        { name: "hook", plugin: "http", options: { url: "https://x.example", secrets: [envRef("E2E_UNSET_SECRET")] } }
      ],
      routes: [{ name: "r", transport: "nope", topic: "t", match: ["**"] }],
      relay: { workers: 0 },
      admin: { port: 0 }
    })
    const validate = await runToEnd(["validate", "--config", file], { env: envWithout() })
    expect(validate.code).toBe(2)
    for (const expected of [
      'environment variable E2E_UNSET_SECRET is not set\n  at ["transports"][0]["options"]["secrets"][0]',
      'at ["relay"]["workers"]',
      'duplicate source name "q"\n  at ["sources"][1]["name"]',
      'no transport named "nope" (known: hook)\n  at ["routes"][0]["transport"]',
      'Expected at least one symbol\n  at ["sources"][0]["options"]["symbols"]',
      'unknown source plugin "@acme/kafka-source": no such package installed'
    ]) {
      expect(validate.stderr).toContain(expected)
    }
  }, 60_000)

  it("a plugin module that throws on import is reported with its error and file, not as unknown", async () => {
    const { file } = writeConfig({ store: memoryStore, sources: [{ name: "acme", plugin: throwingPlugin }] })
    const run = await runToEnd(["run", "--config", file], { env: envWithout() })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain(
      `source plugin "${throwingPlugin}" failed to load (${throwingPlugin}): Error: ACME_API_KEY is required to load this plugin`
    )
    expect(run.stderr).not.toContain("unknown source plugin")
  }, 60_000)
})

describe("commands that publish nothing", () => {
  it("status, dlq and migrate need no transport secret nor source variable; validate and run do", async () => {
    const { file } = writeConfig({
      store: memoryStore,
      sources: [
        {
          name: "counter",
          plugin: counterPlugin,
          options: { total: 1, perTick: 1, prefix: envRef("E2E_UNSET_PREFIX") }
        }
      ],
      transports: [
        { name: "hook", plugin: "http", options: { url: "https://x.example", secrets: [envRef("E2E_UNSET_SECRET")] } }
      ],
      routes: [{ name: "r", transport: "hook", topic: "t", match: ["**"] }],
      admin: { port: 0 }
    })
    const env = { env: envWithout() }
    const status = await runToEnd(["status", "--config", file, "--sample", "0 seconds"], env)
    expect(status.stderr).toBe("")
    expect(status.code).toBe(0)
    expect(status.stdout).toContain("backlog 0")
    const list = await runToEnd(["dlq", "list", "--config", file], env)
    expect(list.code).toBe(0)
    expect(list.stdout).toContain("no dead letters")
    expect((await runToEnd(["migrate", "--config", file], env)).code).toBe(0)
    const validate = await runToEnd(["validate", "--config", file], env)
    expect(validate.code).toBe(2)
    expect(validate.stderr).toContain("environment variable E2E_UNSET_SECRET is not set")
    expect(validate.stderr).toContain("environment variable E2E_UNSET_PREFIX is not set")
  }, 60_000)
})

describe("paths are relative to the config file", () => {
  it("run from one working directory and status from another open the same data directory beside the config", async () => {
    const dir = tempDir("sluice-paths-")
    const file = join(dir, "sluice.json")
    writeFileSync(
      file,
      JSON.stringify({
        store: { dataDir: "data", schema: "paths" },
        sources: [
          {
            name: "counter",
            plugin: `./${relative(dir, counterPlugin)}`,
            options: { total: 3, perTick: 3, prefix: "paths" },
            schedule: { every: "300 millis" }
          }
        ],
        transports: [{ name: "out", plugin: "console", options: { format: "json" } }],
        routes: [{ name: "all", transport: "out", topic: "t", match: ["**"] }],
        relay: { pollInterval: "200 millis" },
        admin: { port: 0 },
        logging: { format: "json" }
      })
    )
    const here = tempDir("sluice-cwd-a-")
    const there = tempDir("sluice-cwd-b-")
    const env = envWithout()
    const run = start(["run", "--config", file], { cwd: here, env })
    await eventually("three events delivered", () => run.stdout.filter((l) => l.startsWith("{")).length >= 3, 60_000)
    run.child.kill("SIGTERM")
    expect((await run.exited).code).toBe(0)
    expect(existsSync(join(dir, "data", "PG_VERSION"))).toBe(true)
    expect(existsSync(join(here, "data"))).toBe(false)

    const status = await runToEnd(["status", "--config", file, "--json", "--sample", "0 seconds"], { cwd: there, env })
    expect(status.code).toBe(0)
    expect((JSON.parse(status.stdout) as { delivered: number }).delivered).toBe(3)
    expect(existsSync(join(there, "data"))).toBe(false)
  }, 120_000)

  it("a plugin's path option (the replay's recordings) is relative to the config file, not the working directory", async () => {
    const { dir, file } = writeConfig({
      store: memoryStore,
      sources: [
        {
          name: "quotes",
          plugin: "@sluice/plugin-yfinance/replay",
          options: { recordings: "recorded", symbols: ["AAPL", "BABA"] },
          schedule: { every: "300 millis" }
        }
      ],
      transports: [{ name: "out", plugin: "console", options: { format: "json" } }],
      routes: [{ name: "all", transport: "out", topic: "t", match: ["**"] }],
      admin: { enabled: false },
      logging: { format: "json" }
    })
    // The shipped recordings with one price changed, so the event shows which directory was read.
    cpSync(shippedRecordings, join(dir, "recorded"), { recursive: true })
    const quotes = join(dir, "recorded", "quote-AAPL-BABA.json")
    const recording = JSON.parse(readFileSync(quotes, "utf8")) as {
      response: { bodyJson: { quoteResponse: { result: Array<{ regularMarketPrice: number }> } } }
    }
    recording.response.bodyJson.quoteResponse.result[0]!.regularMarketPrice = 1234.5
    writeFileSync(quotes, JSON.stringify(recording))

    const elsewhere = { cwd: tempDir("sluice-cwd-"), env: envWithout() }
    expect((await runToEnd(["validate", "--config", file], elsewhere)).code).toBe(0)
    const run = start(["run", "--config", file], elsewhere)
    const events = () =>
      run.stdout
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as { event: { entity_id: string; payload: { price: number } } })
    await eventually(
      "two quotes delivered, or an exit",
      () => events().length >= 2 || run.child.exitCode !== null,
      60_000
    )
    expect(run.child.exitCode, run.stderr.join("\n")).toBeNull()
    expect(events().find((e) => e.event.entity_id === "AAPL")?.event.payload.price).toBe(1234.5)
    run.child.kill("SIGTERM")
    expect((await run.exited).code).toBe(0)
  }, 90_000)
})

describe("CLI consistency", () => {
  it("validate takes --config (default sluice.json) and still the file as an argument", async () => {
    const { dir, file } = writeConfig({
      store: memoryStore,
      transports: [{ name: "out", plugin: "console" }],
      logging: { level: "debug" }
    })
    const env = { env: envWithout() }
    const byDefault = await runToEnd(["validate"], { cwd: dir, ...env })
    expect(byDefault.code).toBe(0)
    expect(byDefault.stdout).toContain("sluice.json is valid")
    expect((await runToEnd(["validate", "--config", file], env)).code).toBe(0)
    expect((await runToEnd(["validate", "-c", file], env)).code).toBe(0)
    expect((await runToEnd(["validate", file], env)).code).toBe(0)
  }, 60_000)

  it("dlq list --limit below 1 and an infinite --sample are usage errors; dlq replay of unknown ids exits 1 naming them", async () => {
    const { file } = writeConfig({ store: memoryStore })
    const env = { env: envWithout() }
    for (const limit of ["0", "-5"]) {
      const list = await runToEnd(["dlq", "list", "--config", file, "--limit", limit], env)
      expect(list.code).toBe(2)
      expect(list.stderr).toContain(`error: --limit: must be at least 1, got ${limit}`)
      expect(list.stdout).not.toContain("no dead letters")
    }
    // A sample window that would never end is refused too (it waited forever).
    const sample = await runToEnd(["status", "--config", file, "--sample", "Infinity"], env)
    expect(sample.code).toBe(2)
    expect(sample.stderr).toContain("--sample: not a finite duration")
    const replay = await runToEnd(["dlq", "replay", "999", "abc", "--config", file], env)
    expect(replay.code).toBe(1)
    expect(replay.stderr).toContain("error: not dead letters: 999, abc")
  }, 60_000)

  it("usage errors print as the README shows; dlq replay's help names only real flags; comments are allowed", async () => {
    const flag = await runToEnd(["run", "--frobnicate"])
    expect(flag.code).toBe(2)
    expect(flag.stderr).toBe("error: Unrecognized flag: --frobnicate in command sluice run\nusage: sluice run --help")
    expect(flag.stdout).toBe("")
    const help = await runToEnd(["dlq", "replay", "--help"])
    expect(help.code).toBe(0)
    for (const mentioned of help.stdout.match(/--[a-z-]+/g) ?? []) {
      expect([
        "--route",
        "--event-type",
        "--all",
        "--config",
        "--admin",
        "--token",
        "--help",
        "--version",
        "--wizard",
        "--completions",
        "--log-level"
      ]).toContain(mentioned)
    }
    const dir = tempDir()
    const file = join(dir, "sluice.json")
    writeFileSync(file, '{\n  // the store\n  "store": { "driver": "memory" /* no disk */ }\n}\n')
    const commented = await runToEnd(["validate", "--config", file], { env: envWithout() })
    expect(commented.stderr).toBe("")
    expect(commented.code).toBe(0)
  }, 60_000)

  it("a failure without a message of its own still says what failed (the admin port in use)", async () => {
    const taken = createServer()
    taken.listen(0, "127.0.0.1")
    await once(taken, "listening")
    const port = (taken.address() as { port: number }).port
    try {
      const { file } = writeConfig({ store: memoryStore, admin: { port } })
      const run = await runToEnd(["run", "--config", file], { env: envWithout() })
      expect(run.code).toBe(1)
      const error = run.stderr.split("\n").find((line) => line.startsWith("error:"))
      expect(error).toMatch(/^error: \S/)
      expect(error).toContain(String(port))
    } finally {
      taken.close()
    }
  }, 60_000)
})
