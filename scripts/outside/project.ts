/**
 * The fresh project outside the repository: a folder in the system's temp directory with a
 * package.json (`"type": "module"`), into which plain `npm` installs the packed tarballs and, from
 * the registry, the versions of `effect`, TypeScript, vitest and `@types/node` the workspace uses.
 */
import { cpSync, readFileSync, writeFileSync } from "node:fs"
import { delimiter, dirname, join } from "node:path"
import type { Checks, RunOptions } from "../checks.ts"
import { root } from "../pack.ts"

/** The registry packages the project needs besides the tarballs, at the workspace's versions. */
const registryPackages = ["effect", "typescript", "vitest", "@effect/vitest", "@types/node"]

/**
 * The environment of every command run in the outside project: this Node (22) first on PATH, so npm
 * and the `#!/usr/bin/env node` bins run on it, and none of the `npm_*` settings that `pnpm run`
 * passes down (plain npm, configured as a stranger's would be).
 */
export const outsideEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.toLowerCase().startsWith("npm_")) env[name] = value
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`
  env.NO_COLOR = "1"
  return env
}

export const outside = (timeout = 600_000): RunOptions => ({ env: outsideEnv(), timeout })

/** npm's flags for every install: no audit or funding requests, cached metadata when it has some. */
export const npmInstallFlags = ["--no-audit", "--no-fund", "--prefer-offline"]

const workspaceVersions = (): Record<string, string> =>
  JSON.parse(readFileSync(join(root, "package.json"), "utf8")).devDependencies as Record<string, string>

/** The `npm warn` lines of an install's output (a peer npm had to override, say), to show them. */
export const npmWarnings = (output: string): ReadonlyArray<string> =>
  [...new Set(output.split("\n").filter((line) => line.startsWith("npm warn")))].slice(0, 10)

/** What an install leaves in the project, copied by `createProject`'s `from`. */
const installed = ["package.json", "package-lock.json", "node_modules"]

/**
 * Creates the project in `dir` with the fixtures (scripts/outside/fixtures) and installs the
 * tarballs and the registry packages (one check). Returns whether it installed.
 *
 * `from`: a project this function installed earlier from tarballs at the same paths relative to
 * it (e.g. `../packs/packages-core/*.tgz`). Its install is copied first, so npm only replaces the
 * packages whose tarball changed (a breakage's): seconds instead of a whole install.
 */
export const createProject = (checks: Checks, dir: string, tarballs: ReadonlyArray<string>, from?: string): boolean => {
  cpSync(join(import.meta.dirname, "fixtures"), dir, { recursive: true })
  if (from !== undefined)
    for (const name of installed) cpSync(join(from, name), join(dir, name), { recursive: true, verbatimSymlinks: true })
  else
    writeFileSync(
      join(dir, "package.json"),
      `${JSON.stringify({ name: "sluice-outside", private: true, type: "module" }, null, 2)}\n`
    )
  const versions = workspaceVersions()
  const fromRegistry = registryPackages.map((name) => `${name}@${versions[name]}`)
  const args = ["install", ...npmInstallFlags, ...tarballs, ...fromRegistry]
  const result = checks.check(`npm install the tarballs and ${fromRegistry.join(" ")}`, "npm", args, dir, outside())
  for (const warning of npmWarnings(result.output)) console.log(`      ${warning}`)
  return result.ok
}
