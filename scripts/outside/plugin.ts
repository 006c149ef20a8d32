/**
 * A plugin package of the user's own, made the way a stranger would: `sluice new plugin` scaffolds
 * it, its devDependencies are installed (`@sluice/*` from the tarballs, as the registry would serve
 * them), `npm run build`, `npm test`, `npm pack`, then its tarball is installed into the project,
 * where the config loads it by package name.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { Checks } from "../checks.ts"
import { type Packed, root } from "../pack.ts"
import { npmInstallFlags, outside } from "./project.ts"

/** The transport's options in the config `sluice run` loads it with: it POSTs each event to `url`. */
export const pluginOptions = (receiverUrl: string): Record<string, unknown> => ({ url: `${receiverUrl}/mine` })

const pluginName = "my-transport"

interface Manifest {
  readonly name: string
  readonly dependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
}

const readManifest = (file: string): Manifest => JSON.parse(readFileSync(file, "utf8")) as Manifest

/** The tarballs of the `@sluice/*` packages `names` need, with the ones they depend on. */
const tarballsFor = (names: ReadonlyArray<string>, packed: ReadonlyArray<Packed>) => {
  const byName = new Map(packed.map((p) => [readManifest(join(root, p.dir, "package.json")).name, p]))
  const wanted = new Set<string>()
  const add = (name: string) => {
    const found = byName.get(name)
    if (found === undefined || wanted.has(name)) return
    wanted.add(name)
    for (const dep of Object.keys(readManifest(join(root, found.dir, "package.json")).dependencies ?? {})) add(dep)
  }
  for (const name of names) add(name)
  return [...wanted].map((name) => byName.get(name)!.tarball)
}

/**
 * Makes, builds, tests and installs the plugin (one check per step). Returns the package name the
 * config loads it by, or undefined when a step failed.
 */
export const makePlugin = (
  checks: Checks,
  folders: { readonly project: string; readonly plugins: string },
  packed: ReadonlyArray<Packed>
): string | undefined => {
  const dir = join(folders.plugins, pluginName)
  const args = ["sluice", "new", "plugin", pluginName, "--kind", "transport", "--dir", folders.plugins]
  if (!checks.check(`plugin: npx ${args.join(" ")}`, "npx", args, folders.project, outside()).ok) return undefined
  const manifest = readManifest(join(dir, "package.json"))
  const sluice = Object.keys({ ...manifest.devDependencies, ...manifest.peerDependencies }).filter((name) =>
    name.startsWith("@sluice/")
  )
  // --no-save: its package.json keeps the ranges a registry would resolve; the tarballs stand in for it.
  const install = ["install", ...npmInstallFlags, "--no-save", ...tarballsFor(sluice, packed)]
  const steps: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
    [`plugin: npm install (devDependencies; ${sluice.join(", ")} from the tarballs)`, install],
    ["plugin: npm run build", ["run", "build"]],
    ["plugin: npm test", ["test"]],
    ["plugin: npm pack", ["pack", "--pack-destination", folders.plugins]]
  ]
  for (const [label, args] of steps) if (!checks.check(label, "npm", args, dir, outside()).ok) return undefined
  // Its tarball, as the plugin's README says (or `npm publish`, then `npm install` by name): a
  // symlinked folder (`npm install ../my-transport`) would load the effect and @sluice/core of the
  // plugin's own node_modules (its devDependencies), which the runner refuses (two copies).
  const tarball = readdirSync(folders.plugins).find((file) => file.endsWith(".tgz"))
  const add = ["install", ...npmInstallFlags, join(folders.plugins, tarball ?? "missing.tgz")]
  if (!checks.check(`plugin: npm install ${tarball} into the project`, "npm", add, folders.project, outside()).ok) {
    return undefined
  }
  return manifest.name
}
