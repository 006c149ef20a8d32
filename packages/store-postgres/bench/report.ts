/** The end of `pnpm bench`: the table printed (rows against the reference, then against the peers) and the JSON kept. */
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { median } from "./harness.ts"
import type { Row } from "./measure.ts"

export const report = (
  rows: ReadonlyArray<Row>,
  options: {
    readonly runs: number
    readonly scale: number
    readonly started: number
    readonly resultsDir: string
    readonly peersLabel: string
  }
) => {
  const { runs, scale, started, resultsDir } = options
  const table = rows.map((row) => {
    const sluice = median(row.sluice)
    const raw = row.raw === undefined ? null : median(row.raw)
    const ratio = raw === null ? null : row.unit === "ms" ? raw / sluice : sluice / raw
    return { ...row, median: { sluice, raw }, ratio }
  })
  const fmt = (x: number | null, unit: string) =>
    x === null
      ? "-"
      : unit === "ms"
        ? `${x.toFixed(1)} ms`
        : unit === "MB"
          ? `${Math.round(x)} MB`
          : unit === "samples"
            ? `${Math.round(x)}`
            : x < 10
              ? `${x.toFixed(1)}/s`
              : `${Math.round(x).toLocaleString("en-US")}/s`
  const ratio = ({ ratio: x }: (typeof table)[number]) =>
    x === null ? "-" : x >= 100 ? `${Math.round(x).toLocaleString("en-US")}x` : `${x.toFixed(2)}x`
  const lines = [
    "| store | scenario | Sluice | raw SQL | ratio |",
    "|---|---|---:|---:|---:|",
    ...table
      .filter((r) => r.peer === undefined)
      .map(
        (r) =>
          `| ${r.driver} | ${r.name} | ${fmt(r.median.sluice, r.unit)} | ${fmt(r.median.raw, r.unit)} | ${ratio(r)} |`
      )
  ]
  const peers = table.filter((r) => r.peer !== undefined)
  if (peers.length > 0)
    lines.push(
      "",
      `Peers on the same PostgreSQL, no-op handler. Sluice: ${options.peersLabel} (the runner's defaults).`,
      "",
      "| peer | scenario | Sluice | peer | Sluice / peer |",
      "|---|---|---:|---:|---:|",
      ...peers.map(
        (r) =>
          `| ${r.peer} | ${r.name} | ${fmt(r.median.sluice, r.unit)} | ${fmt(r.median.raw, r.unit)} | ${ratio(r)} |`
      )
    )
  console.log(lines.join("\n"))
  const seconds = (performance.now() - started) / 1000
  console.log(
    `\n${runs} runs per row (median), ${seconds.toFixed(0)} s total. Ratio: Sluice / raw or peer (latency: raw / Sluice).`
  )
  mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  const file = join(resultsDir, `bench-${stamp}.json`)
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), runs, scale, node: process.version, seconds, rows: table }, null, 2)}\n`
  )
  console.log(`results: ${file}`)
}
