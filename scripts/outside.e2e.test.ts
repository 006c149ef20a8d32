/**
 * The outside-the-workspace test (scripts/outside-test.ts) fails when a package is broken the way a
 * careless release breaks it: each `--break` makes exactly the checks that should see it fail, and no
 * other (every other check passes, so the failures come from the breakage). These run its `packages`
 * group (install, exports, declared dependencies, types) on tarballs packed once, each from a copy
 * of one project installed from them (`--from`: npm reinstalls only the broken package); bin/test
 * runs the whole test, unbroken, separately.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { makeChecks } from "./checks.ts"
import type { Breakage } from "./outside/breakage.ts"
import { createProject } from "./outside/project.ts"
import { buildPackages, packPackages, root } from "./pack.ts"
import { packageDirs } from "./package-manifests.ts"

let tmp = ""
const packs = () => join(tmp, "packs")
const project = () => join(tmp, "project")

interface Report {
  readonly passed: number
  readonly failed: number
  readonly problems: ReadonlyArray<string>
}

/** Runs the outside test's packages group on the packed tarballs, `breakage` applied: it must fail. */
const runOutside = (breakage: Breakage): Report & { readonly output: string } => {
  const report = join(tmp, `${breakage}.json`)
  const args = ["--only", "packages", "--packs", packs(), "--from", project(), "--break", breakage, "--report", report]
  const result = spawnSync(process.execPath, ["scripts/outside-test.ts", ...args], {
    cwd: root,
    encoding: "utf8",
    timeout: 280_000
  })
  const output = `${result.stdout}${result.stderr}`
  expect(result.status, output).toBe(1)
  return { ...(JSON.parse(readFileSync(report, "utf8")) as Report), output }
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "sluice-outside-test-"))
  const checks = makeChecks()
  const packed = buildPackages(checks) ? packPackages(checks, packs()) : []
  if (packed.length !== packageDirs.length)
    throw new Error("building or packing the packages failed (see the output above)")
  mkdirSync(project())
  const installed = createProject(
    checks,
    project(),
    packed.map((p) => p.tarball)
  )
  if (!installed) throw new Error("installing the packed packages failed (see the output above)")
}, 240_000)

// The project's node_modules holds tens of thousands of files: removing them on a busy machine can
// take longer than Vitest's default 10 s hook timeout.
afterAll(() => {
  if (tmp !== "") rmSync(tmp, { recursive: true, force: true, maxRetries: 5 })
}, 120_000)

describe("the outside-the-workspace test", { timeout: 300_000 }, () => {
  it("fails when a package imports a dependency it does not declare, though npm hoisting hides it", () => {
    const report = runOutside("missing-dependency")
    expect(report.problems).toEqual(["@sluice/runner: imports only its declared dependencies and peers"])
    expect(report.output).toMatch(/imports @sluice\/store-postgres \(in dist\/src\/[^)]+\.js\) without declaring it/)
  })

  it("fails when a package exports a path that is not in it", () => {
    const report = runOutside("missing-export")
    expect(report.problems).toEqual([
      "@sluice/transport-http: every export loads in Node (@sluice/transport-http, @sluice/transport-http/node, @sluice/transport-http/testing)",
      "tsc --noEmit: the user's program (strict, NodeNext) and every export's types"
    ])
    expect(report.output).toContain("Cannot find module '@sluice/transport-http/testing'")
  })

  it("fails when a package's declaration files name one that is not there", () => {
    const report = runOutside("bad-types")
    expect(report.problems).toEqual(["tsc --noEmit: the user's program (strict, NodeNext) and every export's types"])
    expect(report.output).toContain("Could not find a declaration file for module './HttpTransportConfig.ts'")
  })

  // The README's way to get the tarballs for a project of one's own (scripts/pack-all.ts).
  it("pnpm pack:all DIR leaves each published package's tarball in DIR, relative to where it was typed", () => {
    const dir = join(tmp, "flat")
    mkdirSync(dir)
    writeFileSync(join(dir, "sluice-core-0.0.0.tgz"), "an older pack")
    writeFileSync(join(dir, "notes.txt"), "not ours")
    const result = spawnSync(process.execPath, ["scripts/pack-all.ts", "flat"], {
      cwd: root,
      env: { ...process.env, INIT_CWD: tmp },
      encoding: "utf8",
      timeout: 240_000
    })
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0)
    const files = readdirSync(dir)
    expect(files.filter((file) => file.endsWith(".tgz"))).toHaveLength(packageDirs.length)
    expect(files).not.toContain("sluice-core-0.0.0.tgz")
    expect(files).toContain("notes.txt")
  })
})
