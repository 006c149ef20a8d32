/**
 * Checks every publishable package as a registry would see it: builds (tsc), packs each package with
 * `pnpm pack` (which applies `publishConfig`) into a temp folder, then runs on each tarball
 * `publint` (package.json fields, files that exist) and `attw --profile esm-only` (types resolve
 * for node16 ESM and bundlers; the packages are ESM-only, so node10 and `require` are not targets),
 * and `deno publish --dry-run` in each package folder (its deno.json, for JSR; offline).
 *
 * First it checks that each package's `publishConfig` and deno.json entry points are derived from its
 * `exports`/`bin` (scripts/package-manifests.ts); `--fix` rewrites them.
 *
 * Prints one line per check and "N passed, N failed"; `--report FILE` also writes
 * `{ passed, failed, problems }` as JSON (scripts/test-all.ts counts it). Exits 1 on any failure.
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { packageDirs, syncManifests } from "./package-manifests.ts"

const root = join(import.meta.dirname, "..")

const report = process.argv.indexOf("--report")
const reportFile = report === -1 ? undefined : process.argv[report + 1]
const fix = process.argv.includes("--fix")
let passed = 0
let failed = 0
const problems: Array<string> = []

const run = (command: string, args: ReadonlyArray<string>, cwd: string) => {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } })
  return { ok: result.status === 0, output: `${result.stdout ?? ""}${result.stderr ?? ""}` }
}

const record = (label: string, ok: boolean, detail: string) => {
  if (ok) {
    passed++
    console.log(`ok    ${label}`)
  } else {
    failed++
    problems.push(label)
    console.log(`FAIL  ${label}: ${detail}`)
  }
  return ok
}

const check = (label: string, command: string, args: ReadonlyArray<string>, cwd: string) => {
  const { ok, output } = run(command, args, cwd)
  return record(label, ok, `${command} ${args.join(" ")}\n${output.trim()}`)
}

for (const dir of packageDirs) {
  const stale = syncManifests(join(root, dir), fix)
  if (fix && stale.length > 0) run("pnpm", ["exec", "biome", "format", "--write", ...stale], root)
  record(
    `${dir}: publishConfig and deno.json match exports`,
    fix || stale.length === 0,
    `${stale.join(", ")} not derived from package.json's exports/bin: run node scripts/check-packages.ts --fix`
  )
}

const deno = join(root, ".tools/node_modules/.bin/deno")
const out = mkdtempSync(join(tmpdir(), "sluice-packs-"))
try {
  if (check("build (tsc -b tsconfig.build.json)", "pnpm", ["exec", "tsc", "-b", "tsconfig.build.json"], root)) {
    for (const dir of packageDirs) {
      const dest = join(out, dir.replaceAll("/", "-"))
      if (!check(`${dir}: pnpm pack`, "pnpm", ["pack", "--pack-destination", dest], join(root, dir))) continue
      const tarball = join(dest, readdirSync(dest).find((name) => name.endsWith(".tgz")) ?? "missing.tgz")
      check(`${dir}: publint`, "pnpm", ["exec", "publint", "run", "--strict", tarball], root)
      check(`${dir}: attw`, "pnpm", ["exec", "attw", tarball, "--profile", "esm-only", "--format", "ascii"], root)
      // Slow types (inferred exported types) are how Effect code is written; JSR accepts them with this flag.
      check(
        `${dir}: deno publish --dry-run`,
        deno,
        ["publish", "--dry-run", "--allow-dirty", "--allow-slow-types"],
        join(root, dir)
      )
    }
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}

if (reportFile !== undefined) writeFileSync(reportFile, JSON.stringify({ passed, failed, problems }))
if (problems.length > 0) console.log(`\nProblems:\n- ${problems.join("\n- ")}`)
console.log(`\n${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
