/**
 * `pnpm chaos [--seed N] [--only NAME[,NAME]] [--short]`: runs every chaos scenario (long
 * versions unless --short) against private PostgreSQL clusters and prints, per scenario, events
 * committed, delivered, duplicates, dead-lettered and lost, then every broken promise. Exits 1 when
 * any scenario broke one. The same scenarios, short, run in vitest (apps/runner/test/chaos).
 */
import { parseArgs } from "node:util"
import { summary } from "../test/chaos/lib/scenario.ts"
import { scenarios } from "../test/chaos/scenarios/index.ts"

const { values } = parseArgs({
  options: {
    seed: { type: "string" },
    only: { type: "string" },
    short: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false }
  }
})
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : Number(values.seed)
if (!Number.isInteger(seed)) {
  console.error(`error: --seed must be an integer, got ${values.seed}`)
  process.exit(2)
}
const only = values.only?.split(",")
const selected = scenarios.filter((s) => only === undefined || only.includes(s.name))
if (selected.length === 0) {
  console.error(`error: no scenario named ${values.only} (known: ${scenarios.map((s) => s.name).join(", ")})`)
  process.exit(2)
}

console.log(
  `sluice chaos suite: seed ${seed}, ${values.short ? "short" : "long"} versions, ${selected.length} scenario(s)`
)
let failed = 0
for (const scenario of selected) {
  console.log(`\n== ${scenario.name}: ${scenario.description}`)
  const log = values.verbose ? (line: string) => console.log(`   ${line}`) : undefined
  try {
    const report = await scenario.run({ seed, long: !values.short, ...(log ? { log } : {}) })
    console.log(summary(report))
    for (const v of report.violations) console.log(`   ! ${v}`)
    if (report.violations.length > 0) failed += 1
  } catch (error) {
    failed += 1
    console.log(
      `FAIL ${scenario.name}: the scenario crashed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`
    )
  }
}
console.log(`\n${selected.length - failed} passed, ${failed} failed (seed ${seed}; rerun with --seed ${seed})`)
process.exit(failed > 0 ? 1 : 0)
