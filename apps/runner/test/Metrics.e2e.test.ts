/**
 * The `/metrics` exposition by Prometheus' rules, checked on a running `sluice` (the offline
 * quickstart on PGlite) with `promtool check metrics`, plus what promtool does not check: one label
 * set per family, every configured route, source and projection present at 0 before anything
 * happened to it, the build and process metrics. The shipped alert rules and Grafana dashboard are
 * checked against the same exposition: `promtool check rules`, `promtool test rules`, and every
 * metric they query exists.
 */
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { exampleConfig, removeTempDirs } from "./support/config.ts"
import { adminUrl, envWithout, type Sluice, start } from "./support/sluice.ts"

const ops = join(import.meta.dirname, "..", "ops")

/** Runs promtool (Debian's `prometheus` package; .ci/run installs it). */
const promtool = (args: ReadonlyArray<string>, input?: string) => {
  const result = spawnSync("promtool", args, { cwd: ops, input, encoding: "utf8", timeout: 60_000 })
  if (result.error !== undefined)
    throw new Error(`promtool could not run (${result.error.message}): install it with apt-get install prometheus`)
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

interface Sample {
  readonly name: string
  readonly labels: Record<string, string>
  readonly value: number
}

/** The samples of a text exposition (the subset Sluice writes: no escaped quotes in label values). */
const samples = (text: string): ReadonlyArray<Sample> =>
  text
    .split("\n")
    .filter((line) => line !== "" && !line.startsWith("#"))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
      if (match === null) throw new Error(`not a sample line: ${line}`)
      const labels = Object.fromEntries([...(match[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]))
      return { name: match[1]!, labels, value: Number(match[3]) }
    })

/** A sample's family: its name without a histogram's suffixes. */
const family = (name: string, histograms: ReadonlySet<string>) => {
  const base = name.replace(/_(bucket|sum|count)$/, "")
  return histograms.has(base) ? base : name
}

const value = (all: ReadonlyArray<Sample>, name: string, labels: Record<string, string>) =>
  all.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value

let sluice: Sluice | undefined
let exposition = ""

beforeAll(async () => {
  const { file } = exampleConfig("quickstart-offline.json")
  sluice = start(["run", "--config", file], { env: envWithout() })
  await sluice.waitForLine("stderr", /sluice is running/, 90_000)
  exposition = await (await fetch(`${await adminUrl(sluice)}/metrics`)).text()
}, 120_000)

afterAll(async () => {
  if (sluice !== undefined && sluice.child.exitCode === null && sluice.child.signalCode === null) {
    sluice.child.kill("SIGTERM")
    await sluice.exited
  }
  removeTempDirs()
}, 60_000)

describe("the /metrics exposition", () => {
  it("passes promtool check metrics with nothing to say", () => {
    expect(promtool(["check", "metrics"], exposition)).toEqual({ status: 0, output: "" })
  })

  it("uses one label set per family (an unlabelled total beside per-route series would double sum())", () => {
    const histograms = new Set([...exposition.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]!))
    const labelSets = new Map<string, Set<string>>()
    for (const sample of samples(exposition)) {
      const keys = Object.keys(sample.labels)
        .filter((k) => k !== "le")
        .sort()
        .join(",")
      const name = family(sample.name, histograms)
      labelSets.set(name, (labelSets.get(name) ?? new Set()).add(keys))
    }
    const mixed = [...labelSets].filter(([, sets]) => sets.size > 1).map(([name, sets]) => `${name}: ${[...sets]}`)
    expect(mixed).toEqual([])
  })

  it("has every configured route, source and projection at 0 before anything failed", () => {
    const all = samples(exposition)
    for (const route of ["quotes-to-console", "bars-to-console"]) {
      expect(value(all, "sluice_dead_lettered_total", { route }), route).toBe(0)
      expect(value(all, "sluice_retried_total", { route }), route).toBe(0)
      expect(value(all, "sluice_outbox_dead", { route }), route).toBe(0)
      expect(value(all, "sluice_delivery_lag_seconds_count", { route }), route).toBeTypeOf("number")
    }
    for (const source of ["quotes", "bars"]) {
      expect(value(all, "sluice_fetch_failures_total", { source }), source).toBe(0)
      expect(value(all, "sluice_transform_failures_total", { source }), source).toBe(0)
    }
    expect(value(all, "sluice_subscription_batch_failures_total", { subscription: "yahoo-read-model" })).toBe(0)
    expect(value(all, "sluice_stale_completions_total", {})).toBe(0)
  })

  it("reports the build and the process", () => {
    const all = samples(exposition)
    expect(value(all, "sluice_build_info", { version: "0.1.0" })).toBe(1)
    expect(all.find((s) => s.name === "sluice_build_info")?.labels.runtime).toMatch(/^node \d+\.\d+\.\d+$/)
    expect(value(all, "process_resident_memory_bytes", {})).toBeGreaterThan(10_000_000)
    expect(value(all, "process_start_time_seconds", {})).toBeGreaterThan(1_700_000_000)
    expect(value(all, "nodejs_eventloop_lag_p99_seconds", {})).toBeGreaterThanOrEqual(0)
    expect(value(all, "nodejs_heap_size_used_bytes", {})).toBeGreaterThan(0)
  })
})

describe("the shipped alert rules and dashboard", () => {
  it("pass promtool check rules and their unit tests", () => {
    const checked = promtool(["check", "rules", "sluice-alerts.yml"])
    expect(checked.status, checked.output).toBe(0)
    const tested = promtool(["test", "rules", "sluice-alerts.test.yml"])
    expect(tested.status, tested.output).toBe(0)
  })

  it("query only metrics the runner exports", () => {
    const exported = new Set(samples(exposition).map((s) => s.name))
    const queried = (text: string) =>
      new Set([...text.matchAll(/\b((?:sluice|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!))
    const dashboard = JSON.parse(readFileSync(join(ops, "sluice-dashboard.json"), "utf8")) as {
      readonly panels: ReadonlyArray<{ readonly targets: ReadonlyArray<{ readonly expr: string }> }>
    }
    const expressions = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)).join("\n")
    const rules = readFileSync(join(ops, "sluice-alerts.yml"), "utf8")
      .split("\n")
      .filter((line) => !line.trimStart().startsWith("#"))
      .join("\n")
    const unknown = [...queried(expressions), ...queried(rules)].filter((name) => !exported.has(name))
    expect(unknown).toEqual([])
    expect(queried(expressions).size).toBeGreaterThan(15)
  })
})
