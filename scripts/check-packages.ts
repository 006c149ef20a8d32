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
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { flagValue, makeChecks, run } from "./checks.ts"
import { buildPackages, packPackages, root } from "./pack.ts"
import { packageDirs, syncManifests } from "./package-manifests.ts"

const fix = process.argv.includes("--fix")
const checks = makeChecks()

for (const dir of packageDirs) {
  const stale = syncManifests(join(root, dir), fix)
  if (fix && stale.length > 0) run("pnpm", ["exec", "biome", "format", "--write", ...stale], root)
  checks.record(
    `${dir}: publishConfig and deno.json match exports`,
    fix || stale.length === 0,
    `${stale.join(", ")} not derived from package.json's exports/bin: run node scripts/check-packages.ts --fix`
  )
}

const deno = join(root, ".tools/node_modules/.bin/deno")
const out = mkdtempSync(join(tmpdir(), "sluice-packs-"))
try {
  if (buildPackages(checks)) {
    for (const { dir, tarball } of packPackages(checks, out)) {
      checks.check(`${dir}: publint`, "pnpm", ["exec", "publint", "run", "--strict", tarball], root)
      checks.check(
        `${dir}: attw`,
        "pnpm",
        ["exec", "attw", tarball, "--profile", "esm-only", "--format", "ascii"],
        root
      )
      // Slow types (inferred exported types) are how Effect code is written; JSR accepts them with this flag.
      checks.check(
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

checks.finish(flagValue("--report"))
