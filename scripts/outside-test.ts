/**
 * The outside-the-workspace test: Sluice as a stranger gets it from a registry. Builds and packs
 * every published package (`pnpm pack`, scripts/pack.ts), creates a fresh project in the system's
 * temp folder, outside the repository, and installs the tarballs with plain `npm`, with `effect`,
 * TypeScript, vitest and `@types/node` from the registry (scripts/outside/project.ts). Then:
 *
 * - packages: every export of every package loads in Node, each package imports only what it
 *   declares, and `tsc --noEmit` compiles a strict user program and every export's types
 *   (outside/installed.ts);
 * - vitest: a user's test of a pipeline on the in-memory layers passes (fixtures/pipeline.test.ts);
 * - cli: the user's own plugin package is made, built, tested and installed (outside/plugin.ts), then
 *   `npx sluice --help`, `validate`, `run` delivering to a local webhook receiver with a built-in
 *   plugin, that package and a plugin file, SIGTERM -> exit 0, and `status` (outside/cli.ts);
 * - deno: Deno runs a pipeline on PGlite from the installed packages (fixtures/deno-pglite.ts).
 *
 * Options: `--report FILE` writes `{ passed, failed, problems }` (scripts/test-all.ts counts each
 * check as a test); `--keep` keeps the temp folder; `--only GROUP,...` runs some groups (packages,
 * vitest, cli, deno); `--packs DIR` installs tarballs packed earlier (DIR as pack.ts lays it out)
 * instead of building and packing; `--from DIR` starts from a copy of a project installed earlier
 * from those tarballs (outside/project.ts: npm then installs only what changed); `--break KIND`
 * breaks one tarball first (outside/breakage.ts), and the test must then fail.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { flagValue, makeChecks } from "./checks.ts"
import { applyBreakage, breakages, isBreakage } from "./outside/breakage.ts"
import { checkCli } from "./outside/cli.ts"
import { checkInstalled, checkTypes } from "./outside/installed.ts"
import { makePlugin } from "./outside/plugin.ts"
import { createProject, outside } from "./outside/project.ts"
import { buildPackages, type Packed, packPackages, root } from "./pack.ts"
import { packageDirs } from "./package-manifests.ts"

const groups = ["packages", "vitest", "cli", "deno"] as const
const only = flagValue("--only")?.split(",") ?? [...groups]
const unknownGroup = only.find((group) => !(groups as ReadonlyArray<string>).includes(group))
const breakage = flagValue("--break")
if (unknownGroup !== undefined || (breakage !== undefined && !isBreakage(breakage))) {
  console.error(
    `usage: node scripts/outside-test.ts [--report FILE] [--keep] [--only ${groups.join(",")}] [--packs DIR] [--from DIR] [--break ${breakages.join("|")}]`
  )
  process.exit(2)
}
const runs = (group: (typeof groups)[number]) => only.includes(group)

const checks = makeChecks()
const started = Date.now()
const tmp = mkdtempSync(join(tmpdir(), "sluice-outside-"))
const folders = { packs: join(tmp, "packs"), project: join(tmp, "project"), plugins: join(tmp, "plugins") }
for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true })
console.log(`outside-the-workspace test in ${tmp}`)

/**
 * Tarballs packed earlier (`--packs DIR`), copied so that a breakage never edits the originals; laid
 * out as pack.ts lays them out, so a project installed from DIR (`--from`) names the same paths.
 */
const reusePacks = (dir: string): ReadonlyArray<Packed> =>
  packageDirs.flatMap((packageDir) => {
    const folder = packageDir.replaceAll("/", "-")
    const from = join(dir, folder)
    const name = existsSync(from) ? readdirSync(from).find((file) => file.endsWith(".tgz")) : undefined
    if (name === undefined) return []
    mkdirSync(join(folders.packs, folder))
    cpSync(join(from, name), join(folders.packs, folder, name))
    return [{ dir: packageDir, tarball: join(folders.packs, folder, name) }]
  })

const packsDir = flagValue("--packs")
const packed =
  packsDir !== undefined
    ? reusePacks(packsDir)
    : buildPackages(checks)
      ? checks.time("packed", () => packPackages(checks, folders.packs))
      : []

try {
  if (packed.length !== packageDirs.length) {
    checks.record("every package packed", false, `packed ${packed.map((p) => p.dir).join(", ") || "none"}`)
  } else {
    if (breakage !== undefined && isBreakage(breakage))
      console.log(`      broken on purpose: ${applyBreakage(breakage, packed)}`)
    const tarballs = packed.map((p) => p.tarball)
    if (createProject(checks, folders.project, tarballs, flagValue("--from"))) {
      const names = packed.map(
        (p) => (JSON.parse(readFileSync(join(root, p.dir, "package.json"), "utf8")) as { name: string }).name
      )
      if (runs("packages")) {
        checkInstalled(checks, folders.project, names)
        checkTypes(checks, folders.project, names)
      }
      if (runs("vitest")) {
        checks.check(
          "npx vitest run: a pipeline on the in-memory layers",
          "npx",
          ["vitest", "run"],
          folders.project,
          outside()
        )
      }
      if (runs("cli")) {
        const plugin = makePlugin(checks, folders, packed)
        await checkCli(checks, folders.project, plugin)
      }
      if (runs("deno")) {
        const deno = join(root, ".tools/node_modules/.bin/deno")
        checks.check(
          "deno run --node-modules-dir=manual: a pipeline on PGlite from the installed packages",
          deno,
          ["run", "-A", "--node-modules-dir=manual", "deno-pglite.ts"],
          folders.project,
          outside(300_000)
        )
      }
    }
  }
} finally {
  if (process.argv.includes("--keep")) console.log(`kept ${tmp}`)
  else rmSync(tmp, { recursive: true, force: true })
  console.log(`outside-the-workspace test took ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

checks.finish(flagValue("--report"))
