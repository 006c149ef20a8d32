/**
 * A plugin must share the runner's copies of `effect` and `@sluice/core`: Schema checks, services
 * and errors are recognised by module instance, so a plugin that loads its own copy fails in ways
 * that name the wrong thing (`Expected an integer` for the value 3). The copy a plugin would load
 * is found as Node finds it (the nearest `node_modules/<name>` above the plugin's real file) and
 * compared, by real path, with the one the runner loaded, before the plugin is imported.
 */
import { existsSync, realpathSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Data } from "effect"
import type { AnyPluginKind } from "./PluginLoader.ts"

/** The packages a plugin must not bring a copy of. */
export const sharedPackages: ReadonlyArray<string> = ["effect", "@sluice/core"]

/** One package the plugin would load from elsewhere than the runner. */
export interface OwnCopy {
  readonly name: string
  /** The copy the plugin would load (real path of the package folder). */
  readonly plugin: string
  /** The copy the runner loaded. */
  readonly runner: string
}

/** A plugin that would load its own copy of `effect` or `@sluice/core`, naming both copies. */
export class PluginCopyError extends Data.TaggedError("PluginCopyError")<{
  readonly plugin: string
  readonly kind: AnyPluginKind
  readonly copies: ReadonlyArray<OwnCopy>
}> {
  override get message() {
    const each = this.copies.map((c) => `its own copy of ${c.name} at ${c.plugin} (the runner's is ${c.runner})`)
    const names = this.copies.map((c) => c.name).join(" and ")
    const peers = this.copies.length === 1 ? "a peer dependency" : "peer dependencies"
    return `${this.kind} plugin ${JSON.stringify(this.plugin)} would load ${each.join(", and ")}: two copies do not recognise each other's schemas and services. Make ${names} ${peers} of the plugin and delete its node_modules copy, so it uses the runner's (a plugin package of your own that has them as devDependencies: install its tarball, \`npm pack\` then \`npm install ./NAME-VERSION.tgz\`, rather than linking its folder)`
  }
}

/** The real path of the `name` package folder that a module in `from` would load, if any. */
export const packageDir = (name: string, from: string): string | undefined => {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name)
    if (existsSync(candidate)) return realpathSync(candidate)
    if (dirname(dir) === dir) return undefined
  }
}

let runnerCopies: ReadonlyMap<string, string | undefined> | undefined
const runnerCopy = (name: string): string | undefined => {
  runnerCopies ??= new Map(
    sharedPackages.map((shared) => [shared, packageDir(shared, dirname(fileURLToPath(import.meta.url)))])
  )
  return runnerCopies.get(name)
}

/**
 * The shared packages that the module `file` would load from another folder than the runner does.
 * A package the plugin cannot reach at all is not a copy (its import fails with its own error).
 */
export const ownCopies = (file: string): ReadonlyArray<OwnCopy> => {
  const from = dirname(realpathSync(file))
  return sharedPackages.flatMap((name) => {
    const plugin = packageDir(name, from)
    const runner = runnerCopy(name)
    return plugin === undefined || runner === undefined || plugin === runner ? [] : [{ name, plugin, runner }]
  })
}
