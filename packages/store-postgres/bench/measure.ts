/**
 * How `pnpm bench` measures a row (main.ts lists the rows): BENCH_RUNS runs per side after BENCH_WARMUP
 * discarded ones, sides alternating, each scenario in a fresh child process (this program again with
 * BENCH_GROUP set), and BENCH_ONLY's selection. `rows` collects what this process measured.
 */
import { spawnSync } from "node:child_process"
import { median } from "./harness.ts"
import type { PushRun } from "./push.ts"
import type { Driver } from "./scenarios.ts"
import type { WebhookRun } from "./webhook.ts"

export interface Row {
  readonly driver: Driver
  readonly name: string
  readonly unit: "events/s" | "ms" | "MB" | "samples"
  readonly sluice: ReadonlyArray<number>
  /** The reference's runs (the raw SQL, or the peer's); none for the runner's memory rows. */
  readonly raw?: ReadonlyArray<number>
  /** For a row against a peer job queue (bench/peers/peers.ts): which, e.g. "pg-boss 12.38.1". */
  readonly peer?: string
}

export const runs = Number(process.env.BENCH_RUNS ?? 3)
// Discarded runs per side before the measured ones: in a fresh process the first run of either side
// was up to 2x slower than the next (JIT, the database's caches).
export const warmups = Number(process.env.BENCH_WARMUP ?? 1)
export const scale = Number(process.env.BENCH_SCALE ?? 1)
export const n = (x: number) => Math.max(1, Math.round(x * scale))
export const only = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((s) => s.trim().toLowerCase())
  .filter((s) => s !== "")
export const selected = (driver: Driver, name: string, peer?: string) =>
  only.length === 0 ||
  only.some((s) => `${driver} ${peer === undefined ? "" : `peers ${peer} `}${name}`.toLowerCase().includes(s))
export const rows: Array<Row> = []

// Which scenario this process runs: all of them (the parent, which delegates each to a child) or one.
export const childGroup = process.env.BENCH_GROUP === undefined ? undefined : Number(process.env.BENCH_GROUP)
export const CHILD_ROWS = "BENCH_ROWS "
let group = -1

/** Runs the next scenario: in a child process when this is the parent, here when it is this child's. */
export const isolated = async (compute: () => Promise<ReadonlyArray<Row>>) => {
  group++
  if (childGroup === undefined) {
    const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env: { ...process.env, BENCH_GROUP: String(group) },
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024
    })
    const line = child.stdout.split("\n").find((l) => l.startsWith(CHILD_ROWS))
    if (child.status !== 0 || line === undefined)
      throw new Error(`bench scenario ${group} failed (exit ${child.status})`)
    rows.push(...(JSON.parse(line.slice(CHILD_ROWS.length)) as ReadonlyArray<Row>))
  } else if (childGroup === group) {
    rows.push(...(await compute()))
  }
}

export type Side = "sluice" | "raw"

/**
 * Runs `f` for both sides: `warmups` discarded runs each, then `runs` measured ones, alternating
 * which side goes first so that warm-up and cache effects favour neither.
 */
export const sample = async <A>(f: (side: Side) => Promise<A>) => {
  const sluice: Array<A> = []
  const raw: Array<A> = []
  for (let i = 0; i < warmups; i++) {
    await f("raw")
    await f("sluice")
  }
  for (let i = 0; i < runs; i++) {
    const order: ReadonlyArray<Side> = i % 2 === 0 ? ["raw", "sluice"] : ["sluice", "raw"]
    for (const side of order) (side === "raw" ? raw : sluice).push(await f(side))
  }
  return { sluice, raw }
}

/** Measures one throughput row (unless BENCH_ONLY leaves it out) and adds it to `rows`. */
export const measure = async (name: string, driver: Driver, f: (side: Side) => Promise<number>, peer?: string) => {
  if (!selected(driver, name, peer)) return
  await isolated(async () => {
    const { sluice, raw } = await sample(f)
    console.error(
      `  ${[driver, peer, name].filter((x) => x !== undefined).join(" ")}: sluice ${Math.round(median(sluice))}, ${peer ?? "raw"} ${Math.round(median(raw))}`
    )
    return [{ driver, name, unit: "events/s", sluice, raw, ...(peer === undefined ? {} : { peer }) }]
  })
}

/** Measures a latency's p50 and p99 rows (one set of runs gives both). */
export const measureLatency = async (
  driver: Driver,
  name: (p: "p50" | "p99") => string,
  f: (side: Side) => Promise<{ readonly p50: number; readonly p99: number }>
) => {
  if (!selected(driver, name("p50")) && !selected(driver, name("p99"))) return
  await isolated(async () => {
    const { sluice, raw } = await sample(f)
    const latencyRows = (["p50", "p99"] as const).map(
      (p) =>
        ({
          driver,
          name: name(p),
          unit: "ms",
          sluice: sluice.map((r) => r[p]),
          raw: raw.map((r) => r[p])
        }) satisfies Row
    )
    for (const row of latencyRows)
      console.error(
        `  ${driver} ${row.name}: sluice ${median(row.sluice).toFixed(1)} ms, raw ${median(row.raw).toFixed(1)} ms`
      )
    return latencyRows
  })
}

/**
 * Measures memory rows of the runner: `f` gives one value per row name for one run (a fresh runner
 * process each time, so no warm-up), repeated `runs` times.
 */
export const measureRss = async <K extends string>(
  driver: Driver,
  names: Record<K, string>,
  f: () => Promise<{ readonly [k in NoInfer<K>]?: number | undefined }>
) => {
  const keys = (Object.keys(names) as Array<K>).filter((k) => selected(driver, names[k]))
  if (keys.length === 0) return
  await isolated(async () => {
    const values = new Map<K, Array<number>>(keys.map((k) => [k, []]))
    for (let i = 0; i < runs; i++) {
      const run = await f()
      for (const k of keys) {
        const value = run[k]
        if (value !== undefined) values.get(k)!.push(value)
      }
    }
    return keys.map((k): Row => {
      console.error(`  ${driver} ${names[k]}: ${Math.round(median(values.get(k)!))} MB`)
      return { driver, name: names[k], unit: "MB", sluice: values.get(k)! }
    })
  })
}

/** A webhook throughput row and this process's RSS before and during the load, from one set of runs. */
export const measureWebhook = async (name: string, f: (side: Side) => Promise<WebhookRun>) => {
  if (!selected("postgres", name)) return
  await isolated(async () => {
    const { sluice, raw } = await sample(f)
    const row = (suffix: string, unit: Row["unit"], k: keyof WebhookRun): Row => ({
      driver: "postgres",
      name: `${name}${suffix}`,
      unit,
      sluice: sluice.map((r) => r[k]),
      raw: raw.map((r) => r[k])
    })
    const webhookRows = [
      row("", "events/s", "rate"),
      row(": RSS idle", "MB", "idleMb"),
      row(": peak RSS", "MB", "peakMb")
    ]
    for (const r of webhookRows)
      console.error(`  ${r.name}: sluice ${Math.round(median(r.sluice))}, raw ${Math.round(median(r.raw!))}`)
    return webhookRows
  })
}

/**
 * A push ingest row (push.ts): requests/s and p99 from one set of runs. Each run warms up on its own
 * (a fresh server process), so these rows take no discarded runs.
 */
export const measurePush = async (name: string, f: (side: Side) => Promise<PushRun>) => {
  const names = { rate: `${name}: requests/s`, p99: `${name}: p99` } as const
  if (!selected("postgres", names.rate) && !selected("postgres", names.p99)) return
  await isolated(async () => {
    const sluice: Array<PushRun> = []
    const raw: Array<PushRun> = []
    for (let i = 0; i < runs; i++)
      for (const side of i % 2 === 0 ? (["raw", "sluice"] as const) : (["sluice", "raw"] as const))
        (side === "raw" ? raw : sluice).push(await f(side))
    const pushRows: ReadonlyArray<Row> = [
      {
        driver: "postgres",
        name: names.rate,
        unit: "events/s",
        sluice: sluice.map((r) => r.rate),
        raw: raw.map((r) => r.rate)
      },
      { driver: "postgres", name: names.p99, unit: "ms", sluice: sluice.map((r) => r.p99), raw: raw.map((r) => r.p99) }
    ]
    for (const r of pushRows)
      console.error(`  ${r.name}: sluice ${median(r.sluice).toFixed(1)}, raw ${median(r.raw!).toFixed(1)}`)
    return pushRows
  })
}
