/**
 * `sluice new plugin NAME --kind source|transport [--dir FOLDER]`: creates FOLDER/<last segment of
 * NAME>, a package whose tests pass and which `sluice` can load as soon as it is built. It never
 * writes into a folder that already holds something.
 */
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve } from "node:path"
import { Console, Data, Effect } from "effect"
import type { PluginKind } from "./PluginLoader.ts"
import { ranges, ScaffoldSourceError } from "./PluginManifest.ts"
import { type PluginNameError, parsePluginName } from "./PluginName.ts"
import { type PluginFile, pluginFiles } from "./PluginTemplates.ts"
import { sluiceWorkspaceOf } from "./PnpmWorkspace.ts"

/** The folder to create the plugin in exists and holds something (or is a file). */
export class TargetFolderError extends Data.TaggedError("TargetFolderError")<{
  readonly folder: string
  readonly reason: string
}> {
  override get message() {
    return `cannot create the plugin in ${this.folder}: ${this.reason}; choose another --dir or NAME`
  }
}

/** Writing the files failed (permissions, a full disk...). */
export class ScaffoldWriteError extends Data.TaggedError("ScaffoldWriteError")<{
  readonly file: string
  readonly reason: string
}> {
  override get message() {
    return `cannot write ${this.file}: ${this.reason}`
  }
}

export interface NewPluginOptions {
  readonly name: string
  readonly kind: PluginKind
  /** Where the package's folder is created (relative to the working directory). @default "." */
  readonly dir: string
}

/** What was created. */
export interface CreatedPlugin {
  readonly name: string
  readonly kind: PluginKind
  /** The package's folder (absolute). */
  readonly folder: string
  readonly files: ReadonlyArray<PluginFile>
  /** The pnpm workspace the package belongs to (its `@sluice/core` is `workspace:`), if any. */
  readonly workspace: string | undefined
}

const emptyOrAbsent = (folder: string): Effect.Effect<void, TargetFolderError> =>
  Effect.suspend(() => {
    if (!existsSync(folder)) return Effect.void
    if (!statSync(folder).isDirectory()) {
      return Effect.fail(new TargetFolderError({ folder, reason: "it exists and is not a folder" }))
    }
    const entries = readdirSync(folder)
    if (entries.length === 0) return Effect.void
    const shown = entries.slice(0, 3).join(", ") + (entries.length > 3 ? `, and ${entries.length - 3} more` : "")
    return Effect.fail(new TargetFolderError({ folder, reason: `the folder is not empty (it holds ${shown})` }))
  })

const write = (folder: string, file: PluginFile): Effect.Effect<void, ScaffoldWriteError> =>
  Effect.try({
    try: () => {
      const path = join(folder, file.path)
      mkdirSync(dirname(path), { recursive: true })
      // `wx`: never overwrite, even a file that appeared since the folder was checked.
      writeFileSync(path, file.text, { flag: "wx" })
    },
    catch: (error) =>
      new ScaffoldWriteError({
        file: join(folder, file.path),
        reason: error instanceof Error ? error.message : String(error)
      })
  })

/** Creates the plugin package; `cwd` resolves a relative `dir`. */
export const createPlugin = (
  options: NewPluginOptions,
  cwd: string = process.cwd()
): Effect.Effect<CreatedPlugin, PluginNameError | TargetFolderError | ScaffoldSourceError | ScaffoldWriteError> =>
  Effect.gen(function* () {
    const plugin = yield* parsePluginName(options.name)
    const folder = resolve(cwd, options.dir, plugin.folder)
    yield* emptyOrAbsent(folder)
    const workspace = sluiceWorkspaceOf(folder)
    const versions = yield* ranges(workspace !== undefined)
    const files = yield* Effect.try({
      try: () => pluginFiles(options.kind, plugin, versions),
      catch: (error) =>
        new ScaffoldSourceError({
          reason: `cannot read the templates: ${error instanceof Error ? error.message : String(error)}`
        })
    })
    for (const file of files) yield* write(folder, file)
    return { name: plugin.name, kind: options.kind, folder, files, workspace }
  })

/** What the command prints: what it made and the next commands. */
export const summary = (created: CreatedPlugin, cwd: string = process.cwd()): string => {
  const where = relative(cwd, created.folder) || "."
  const test =
    created.kind === "transport" ? "the transport contract suite" : "the source on the in-memory store, with TestClock"
  const next =
    created.workspace === undefined
      ? [
          "  npm install     # its dev dependencies, then builds dist/ (the prepare script)",
          `  npm test        # ${test}`,
          `  npm pack        # ${created.name.replace(/^@/, "").replace("/", "-")}-0.1.0.tgz: npm install it in your application`
        ]
      : [
          "  pnpm install    # links it into the workspace, then builds dist/ (the prepare script)",
          `  pnpm test       # ${test}`
        ]
  return [
    `created the ${created.kind} plugin ${created.name} in ${where}:`,
    ...created.files.map((file) => `  ${file.path}`),
    "next:",
    `  cd ${where}`,
    ...next,
    `then name it in a sluice config: "plugin": "${created.name}" (see its README.md)`
  ].join("\n")
}

/** `sluice new plugin`. */
export const newPlugin = (options: NewPluginOptions) =>
  Effect.flatMap(createPlugin(options), (created) => Console.log(summary(created)))
