/**
 * The whole test run, as `bin/test` and CI run it: typecheck, lint, the packed packages (publint, attw,
 * deno publish --dry-run; scripts/check-packages.ts), the packed packages installed with npm in a
 * project outside the repository (scripts/outside-test.ts), every vitest project on Node 22, then
 * core, the plugins and the examples again on Deno 2. Each step's failures count; the last line is
 * "N passed, N failed" (tests passed and failed, plus one failed per failing check step).
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")
const results = join(root, ".test-results")
rmSync(results, { recursive: true, force: true })
mkdirSync(results, { recursive: true })

let passed = 0
let failed = 0
const problems: Array<string> = []

const run = (label: string, command: string, args: ReadonlyArray<string>, env: Record<string, string> = {}) => {
  console.log(`\n=== ${label}: ${command} ${args.join(" ")}`)
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } })
  return result.status ?? 1
}

const check = (label: string, command: string, args: ReadonlyArray<string>) => {
  if (run(label, command, args) === 0) return
  failed++
  problems.push(label)
}

interface VitestJson {
  readonly numPassedTests: number
  readonly numFailedTests: number
  readonly numPendingTests: number
  readonly numTodoTests: number
  readonly success: boolean
  readonly numFailedTestSuites: number
}

const vitest = (
  label: string,
  runtime: string[],
  file: string,
  projects: ReadonlyArray<string>,
  env: Record<string, string>
) => {
  const out = join(results, file)
  const projectArgs = projects.flatMap((p) => ["--project", p])
  const status = run(
    label,
    runtime[0]!,
    [
      ...runtime.slice(1),
      "node_modules/vitest/vitest.mjs",
      "run",
      ...projectArgs,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${out}`
    ],
    env
  )
  let report: VitestJson
  try {
    report = JSON.parse(readFileSync(out, "utf8")) as VitestJson
  } catch {
    failed++
    problems.push(`${label} (no report; exit ${status})`)
    return
  }
  passed += report.numPassedTests
  failed += report.numFailedTests
  if (report.numPendingTests + report.numTodoTests > 0) {
    failed += report.numPendingTests + report.numTodoTests
    problems.push(`${label}: ${report.numPendingTests + report.numTodoTests} skipped or todo tests`)
  }
  if (report.numFailedTests > 0) problems.push(`${label}: ${report.numFailedTests} failed`)
  // A suite that failed to load has no failed tests but is a failure all the same.
  if (report.numFailedTestSuites > 0 && report.numFailedTests === 0) {
    failed += report.numFailedTestSuites
    problems.push(`${label}: ${report.numFailedTestSuites} test files failed to run`)
  }
  if (status !== 0 && report.success) {
    failed++
    problems.push(`${label}: exited ${status}`)
  }
}

/**
 * A script that writes `--report FILE` ({ passed, failed, problems }): each of its checks counts as
 * one test. scripts/check-packages.ts (build, pack, publint, attw, deno) and scripts/outside-test.ts
 * (the packed packages installed with npm in a project outside the repository).
 */
const reported = (label: string, script: string) => {
  const out = join(results, `${label}.json`)
  const status = run(label, "node", [script, "--report", out])
  try {
    const report = JSON.parse(readFileSync(out, "utf8")) as { passed: number; failed: number; problems: string[] }
    passed += report.passed
    failed += report.failed
    problems.push(...report.problems.map((problem) => `${label}: ${problem}`))
    if (status !== 0 && report.failed === 0) {
      failed++
      problems.push(`${label}: exited ${status}`)
    }
  } catch {
    failed++
    problems.push(`${label} (no report; exit ${status})`)
  }
}

check("typecheck", "pnpm", ["exec", "tsc", "-b"])
check("lint", "pnpm", ["exec", "biome", "check", "."])
reported("packages", "scripts/check-packages.ts")
reported("outside", "scripts/outside-test.ts")
vitest("tests on Node", ["node"], "node.json", [], { SLUICE_EXPECT_RUNTIME: "node" })
// The runtime-agnostic packages again on Deno 2 (the store and the runner are Node-first).
vitest(
  "core and plugins on Deno",
  [join(root, ".tools/node_modules/.bin/deno"), "run", "-A"],
  "deno.json",
  ["core", "plugin-yfinance", "transport-http", "transport-console", "examples"],
  { SLUICE_EXPECT_RUNTIME: "deno" }
)

if (problems.length > 0) console.log(`\nProblems:\n- ${problems.join("\n- ")}`)
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
