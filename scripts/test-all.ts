/**
 * The whole test run, as `bin/test` and CI run it: typecheck, lint, the packed packages (publint, attw,
 * deno publish --dry-run; scripts/check-packages.ts), the packed packages installed with npm in a
 * project outside the repository (scripts/outside-test.ts), every vitest project on Node 22 (every
 * tier: unit, integration, e2e, chaos), then core, the plugins and the examples again on Deno 2 (the
 * projects vitest.config.ts lists under Deno), then runtime-tests/deno (the store's contracts,
 * the push handler under Deno.serve, `sluice run`). Each step's failures count; the last line is
 * "N passed, N failed" (tests passed and failed, plus one failed per failing check step).
 *
 * After typecheck and lint, two lanes run at the same time (on 2 cores the Node tests leave room:
 * much of their time is waiting): the Node tests, printing as they go, and beside them the package
 * checks, the outside test and the Deno tests, whose output (in .test-results/*.log) is printed
 * once the Node tests are done. Spawned Node processes share a compile cache
 * (node_modules/.cache/node-compile): the tests start `sluice` a few hundred times.
 */
import { spawn } from "node:child_process"
import { createWriteStream, mkdirSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"

const root = join(import.meta.dirname, "..")
const results = join(root, ".test-results")
rmSync(results, { recursive: true, force: true })
mkdirSync(results, { recursive: true })

let passed = 0
let failed = 0
const problems: Array<string> = []

process.env.NODE_COMPILE_CACHE ??= join(root, "node_modules/.cache/node-compile")
// Every tier, whatever the shell exported (vitest.config.ts reads it; `pnpm test:unit` sets it).
delete process.env.SLUICE_TEST_TIER

/** Where a step's output goes: this terminal, or a log file printed later (`printLog`). */
type Output = "inherit" | { readonly log: string }

const run = (
  label: string,
  command: string,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  output: Output = "inherit"
): Promise<number> => {
  const header = `\n=== ${label}: ${command} ${args.join(" ")}\n`
  const log = output === "inherit" ? undefined : createWriteStream(output.log, { flags: "a" })
  if (log === undefined) process.stdout.write(header)
  else log.write(header)
  const started = Date.now()
  const child = spawn(command, args, {
    cwd: root,
    stdio: log === undefined ? "inherit" : ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env }
  })
  child.stdout?.pipe(log!, { end: false })
  child.stderr?.pipe(log!, { end: false })
  return new Promise((resolve) => {
    child.on("error", (error) => {
      log?.write(`${error.message}\n`)
      resolve(1)
    })
    child.on("close", (status) => {
      const footer = `=== ${label}: exit ${status} after ${((Date.now() - started) / 1000).toFixed(0)} s\n`
      if (log === undefined) {
        process.stdout.write(footer)
        resolve(status ?? 1)
      } else log.end(footer, () => resolve(status ?? 1))
    })
  })
}

const check = async (label: string, command: string, args: ReadonlyArray<string>) => {
  if ((await run(label, command, args)) === 0) return
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
  readonly testResults?: ReadonlyArray<{
    readonly name: string
    readonly status: string
    readonly message?: string
    readonly startTime?: number
    readonly endTime?: number
    readonly assertionResults?: ReadonlyArray<unknown>
  }>
}

/**
 * One line per test tier (vitest.config.ts): its files, tests, the seconds its files took added up,
 * and its longest file. Files run several at a time, so a tier alone takes less than its sum.
 */
const tierLines = (report: VitestJson): Array<string> => {
  const tierOf = (name: string) => /\.(integration|e2e|chaos)\.test\.ts$/.exec(name)?.[1] ?? "unit"
  return ["unit", "integration", "e2e", "chaos"].map((tier) => {
    const files = (report.testResults ?? []).filter((file) => tierOf(file.name) === tier)
    const seconds = (file: (typeof files)[number]) => ((file.endTime ?? 0) - (file.startTime ?? 0)) / 1000
    const longest = files.reduce<(typeof files)[number] | undefined>(
      (max, file) => (max === undefined || seconds(file) > seconds(max) ? file : max),
      undefined
    )
    const tests = files.reduce((n, file) => n + (file.assertionResults?.length ?? 0), 0)
    const sum = files.reduce((total, file) => total + seconds(file), 0)
    const longestText =
      longest === undefined ? "" : `, longest ${seconds(longest).toFixed(0)} s ${longest.name.replace(`${root}/`, "")}`
    return `${tier}: ${files.length} files, ${tests} tests, ${sum.toFixed(0)} s in files${longestText}`
  })
}

/** The files that failed without a failed test (a hook, an import, a worker), with their first error line. */
const failedFiles = (report: VitestJson) =>
  (report.testResults ?? [])
    .filter((file) => file.status === "failed")
    .map((file) => `${file.name.replace(`${root}/`, "")}: ${(file.message ?? "").split("\n")[0]?.slice(0, 300)}`)

const vitest = async (
  label: string,
  runtime: string[],
  file: string,
  projects: ReadonlyArray<string>,
  env: Record<string, string>,
  output: Output = "inherit",
  extraArgs: ReadonlyArray<string> = []
) => {
  const out = join(results, file)
  const projectArgs = [...extraArgs, ...projects.flatMap((p) => ["--project", p])]
  const status = await run(
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
    env,
    output
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
    problems.push(`${label}: ${report.numFailedTestSuites} test files failed to run`, ...failedFiles(report))
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
const reported = async (label: string, script: string, output: Output = "inherit") => {
  const out = join(results, `${label}.json`)
  const status = await run(label, "node", [script, "--report", out], {}, output)
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

await check("typecheck", "pnpm", ["exec", "tsc", "-b"])
await check("lint", "pnpm", ["exec", "biome", "check", "."])
// Built here once, as the steps below run at the same time and each builds (then an up-to-date
// no-op): two builds writing dist/ at once could pack a half-written file. A failure shows there.
await run("build", "pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"])

const besideLog = join(results, "beside-node.log")
console.log(`\n=== packages, outside, then Deno: beside the tests on Node (output in ${besideLog}, printed below)`)
const beside = (async () => {
  const output = { log: besideLog }
  await reported("packages", "scripts/check-packages.ts", output)
  await reported("outside", "scripts/outside-test.ts", output)
  // The runtime-agnostic packages again on Deno 2 (the store and the runner: runtime-tests below). Fewer
  // files at once than alone: the Node tests run beside them.
  await vitest(
    "core and plugins on Deno",
    [join(root, ".tools/node_modules/.bin/deno"), "run", "-A"],
    "deno.json",
    // The projects vitest.config.ts lists under Deno.
    [],
    { SLUICE_EXPECT_RUNTIME: "deno", SLUICE_TEST_WORKERS: "2" },
    output
  )
  // The store's contracts, the push handler under Deno.serve and `sluice run` under Deno
  // (runtime-tests/README.md).
  await vitest(
    "store, push and runner on Deno",
    [join(root, ".tools/node_modules/.bin/deno"), "run", "-A"],
    "deno-runtime.json",
    [],
    { SLUICE_TEST_WORKERS: "2" },
    output,
    ["--config", "runtime-tests/deno/vitest.config.ts"]
  )
})()
await vitest("tests on Node", ["node"], "node.json", [], { SLUICE_EXPECT_RUNTIME: "node" })
try {
  const report = JSON.parse(readFileSync(join(results, "node.json"), "utf8")) as VitestJson
  console.log(`\n=== test tiers on Node\n${tierLines(report).join("\n")}`)
} catch {
  // No report: the step above counted it as a failure.
}
await beside
process.stdout.write(readFileSync(besideLog, "utf8"))

if (problems.length > 0) console.log(`\nProblems:\n- ${problems.join("\n- ")}`)
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
