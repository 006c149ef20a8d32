/**
 * The package.json of a plugin made by `sluice new plugin`. Its version ranges are read, when the
 * command runs, from the runner's own package.json and the installed `@sluice/core`'s, so a new
 * plugin asks for what this runner works with, and nothing here repeats a version number.
 */
import { existsSync, readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { Data, Effect } from "effect"
import { packageDir } from "./PluginCopies.ts"
import type { PluginName } from "./PluginName.ts"

/**
 * What the command reads from the runner's installation cannot be read: its package.json,
 * `@sluice/core`'s (or a field it takes a range from), or the templates.
 */
export class ScaffoldSourceError extends Data.TaggedError("ScaffoldSourceError")<{ readonly reason: string }> {
  override get message() {
    return `cannot create the plugin: ${this.reason}`
  }
}

interface Manifest {
  readonly name?: string
  readonly version?: string
  readonly engines?: Readonly<Record<string, string>>
  readonly peerDependencies?: Readonly<Record<string, string>>
  readonly devDependencies?: Readonly<Record<string, string>>
}

const readManifest = (folder: string): Manifest =>
  JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as Manifest

/** The runner's package folder (above `src/` in the workspace, above `dist/src/` when installed). */
export const runnerRoot = (): string => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && readManifest(dir).name === "@sluice/runner") return dir
    if (dirname(dir) === dir) throw new Error("@sluice/runner's package.json is not above its code")
  }
}

/** The ranges a new plugin depends on. */
export interface Ranges {
  readonly node: string
  readonly effect: string
  /** `@sluice/core` as a peer dependency. */
  readonly core: string
  /** `@sluice/core` as a dev dependency. */
  readonly coreDev: string
  readonly vitest: string
  readonly effectVitest: string
  readonly typescript: string
  readonly typesNode: string
}

/** An exact version as a caret range; a range as it is. */
const caret = (range: string) => (/^\d/.test(range) ? `^${range}` : range)

/** The ranges this runner works with; `@sluice/core` as `workspace:` ones inside a workspace. */
export const ranges = (inWorkspace: boolean): Effect.Effect<Ranges, ScaffoldSourceError> =>
  Effect.try({
    try: () => {
      const root = runnerRoot()
      const runner = readManifest(root)
      const coreDir = packageDir("@sluice/core", root)
      if (coreDir === undefined) throw new Error("@sluice/core is not installed next to @sluice/runner")
      const core = readManifest(coreDir)
      const field = (manifest: Manifest, path: string, value: string | undefined): string => {
        if (value === undefined) throw new Error(`${manifest.name}'s package.json has no ${path}`)
        return value
      }
      const coreRange = field(runner, 'peerDependencies["@sluice/core"]', runner.peerDependencies?.["@sluice/core"])
      // In the workspace the runner's own range is a `workspace:` one: the version is core's.
      const published = coreRange.startsWith("workspace:") ? caret(field(core, "version", core.version)) : coreRange
      return {
        node: field(runner, "engines.node", runner.engines?.node),
        effect: field(runner, "peerDependencies.effect", runner.peerDependencies?.effect),
        core: inWorkspace ? "workspace:^" : published,
        coreDev: inWorkspace ? "workspace:*" : published,
        vitest: field(core, "peerDependencies.vitest", core.peerDependencies?.vitest),
        effectVitest: field(core, 'peerDependencies["@effect/vitest"]', core.peerDependencies?.["@effect/vitest"]),
        typescript: caret(field(runner, "devDependencies.typescript", runner.devDependencies?.typescript)),
        typesNode: caret(field(runner, 'devDependencies["@types/node"]', runner.devDependencies?.["@types/node"]))
      }
    },
    catch: (error) => new ScaffoldSourceError({ reason: error instanceof Error ? error.message : String(error) })
  })

/** The new plugin's package.json text. */
export const pluginManifest = (plugin: PluginName, kind: "source" | "transport", versions: Ranges): string =>
  `${JSON.stringify(
    {
      name: plugin.name,
      version: "0.1.0",
      description: `A Sluice ${kind} plugin.`,
      type: "module",
      sideEffects: [],
      engines: { node: versions.node },
      files: ["dist"],
      exports: { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } },
      scripts: {
        build: "tsc -p tsconfig.build.json",
        prepare: "tsc -p tsconfig.build.json",
        test: "vitest run",
        typecheck: "tsc -p tsconfig.json"
      },
      peerDependencies: { "@sluice/core": versions.core, effect: versions.effect },
      devDependencies: {
        "@effect/vitest": versions.effectVitest,
        "@sluice/core": versions.coreDev,
        "@types/node": versions.typesNode,
        effect: versions.effect,
        typescript: versions.typescript,
        vitest: versions.vitest
      }
    },
    null,
    2
  )}\n`
