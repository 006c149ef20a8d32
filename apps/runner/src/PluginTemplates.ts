/**
 * The files of a new plugin package. They are written from `templates/plugin/` (shipped with the
 * runner): `common/` for every kind, then `source/` or `transport/`. A template is a working plugin
 * named `example-source` or `example-transport` (identifier `ExampleSource`, `ExampleTransport`),
 * which this repository typechecks and lints like its own code; generating renames it. The
 * package.json is not a template: its version ranges are read at run time (PluginManifest.ts).
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative, sep } from "node:path"
import type { PluginKind } from "./PluginLoader.ts"
import { pluginManifest, type Ranges, runnerRoot } from "./PluginManifest.ts"
import type { PluginName } from "./PluginName.ts"

/** One file of the new package: its path inside the package (`/`-separated) and its text. */
export interface PluginFile {
  readonly path: string
  readonly text: string
}

/** The folder holding the templates. */
export const templatesDir = (): string => join(runnerRoot(), "templates", "plugin")

/** The name and identifier a template of `kind` is written with. */
export const templateName = (kind: PluginKind): { readonly name: string; readonly identifier: string } =>
  kind === "source"
    ? { name: "example-source", identifier: "ExampleSource" }
    : { name: "example-transport", identifier: "ExampleTransport" }

// A `node_modules` there is a leftover of running a template's tests in place, not part of it.
const filesUnder = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir).flatMap((name) => {
    if (name === "node_modules") return []
    const path = join(dir, name)
    return statSync(path).isDirectory() ? filesUnder(path) : [path]
  })

// npm drops a package's `.gitignore` files, so the template is `gitignore`.
const renamed: Readonly<Record<string, string>> = { gitignore: ".gitignore" }

/** The files of a new `kind` plugin called `plugin`, sorted by path. */
export const pluginFiles = (kind: PluginKind, plugin: PluginName, versions: Ranges): ReadonlyArray<PluginFile> => {
  const template = templateName(kind)
  // The name between slashes is a path (the package's folder); elsewhere, the package name.
  const rename = (text: string) =>
    text
      .replaceAll(`/${template.name}/`, `/${plugin.folder}/`)
      .replaceAll(template.name, plugin.name)
      .replaceAll(template.identifier, plugin.identifier)
  const fromTemplates = ["common", kind].flatMap((part) => {
    const dir = join(templatesDir(), part)
    return filesUnder(dir).map((file): PluginFile => {
      const path = relative(dir, file).split(sep).join("/")
      return { path: rename(renamed[path] ?? path), text: rename(readFileSync(file, "utf8")) }
    })
  })
  return [...fromTemplates, { path: "package.json", text: pluginManifest(plugin, kind, versions) }].sort((a, b) =>
    a.path < b.path ? -1 : 1
  )
}
