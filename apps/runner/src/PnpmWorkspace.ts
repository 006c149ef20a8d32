/**
 * Whether a folder belongs to a pnpm workspace that holds Sluice's own packages (this repository,
 * or a fork): a plugin created there depends on `@sluice/core` through `workspace:` instead of a
 * version from the registry. Reads `packages:` of `pnpm-workspace.yaml` (a block list or a flow
 * list of globs, `!` excluding), which is all pnpm needs from it to find packages.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, relative, sep } from "node:path"

/** The `packages:` globs of a pnpm-workspace.yaml text. */
export const workspaceGlobs = (yaml: string): ReadonlyArray<string> => {
  const unquote = (text: string) => text.trim().replace(/^(['"])(.*)\1$/, "$2")
  const lines = yaml.split(/\r?\n/).map((line) => line.replace(/\s+#.*$/, ""))
  const start = lines.findIndex((line) => /^packages\s*:/.test(line))
  if (start === -1) return []
  const inline = lines[start]!.replace(/^packages\s*:/, "").trim()
  if (inline.startsWith("["))
    return inline
      .replace(/^\[|\]$/g, "")
      .split(",")
      .map(unquote)
      .filter(Boolean)
  const globs: Array<string> = []
  for (const line of lines.slice(start + 1)) {
    const item = line.match(/^\s+-\s*(.+)$/)
    if (item !== null) globs.push(unquote(item[1]!))
    else if (line.trim() !== "" && !/^\s/.test(line)) break
  }
  return globs
}

/** A pnpm glob as a regular expression on `/`-separated relative paths. */
const globRegExp = (glob: string): RegExp => {
  const body = glob
    .replace(/^\.\//, "")
    .replace(/\/+$/, "")
    .split(/(\*\*|\*)/)
    .map((part) => (part === "**" ? ".*" : part === "*" ? "[^/]*" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")))
    .join("")
  return new RegExp(`^${body}$`)
}

/** The folders a glob names, for globs that are a path or end in one `/*` (enough to find core). */
const globFolders = (root: string, glob: string): ReadonlyArray<string> => {
  const clean = glob.replace(/^\.\//, "").replace(/\/+$/, "")
  if (!clean.includes("*")) return [join(root, clean)]
  if (!/^[^*]*\/\*$/.test(clean)) return []
  const parent = join(root, clean.slice(0, -2))
  return existsSync(parent) ? readdirSync(parent).map((name) => join(parent, name)) : []
}

const packageName = (folder: string): string | undefined => {
  try {
    return (JSON.parse(readFileSync(join(folder, "package.json"), "utf8")) as { name?: string }).name
  } catch {
    return undefined
  }
}

/**
 * The root of the pnpm workspace that lists `folder` (which need not exist yet) as a package and
 * contains `@sluice/core`, or undefined.
 */
export const sluiceWorkspaceOf = (folder: string): string | undefined => {
  for (let dir = dirname(folder); ; dir = dirname(dir)) {
    const file = join(dir, "pnpm-workspace.yaml")
    if (existsSync(file)) {
      const globs = workspaceGlobs(readFileSync(file, "utf8"))
      const path = relative(dir, folder).split(sep).join("/")
      const listed =
        globs.some((glob) => !glob.startsWith("!") && globRegExp(glob).test(path)) &&
        !globs.some((glob) => glob.startsWith("!") && globRegExp(glob.slice(1)).test(path))
      const hasCore = globs
        .filter((glob) => !glob.startsWith("!"))
        .some((glob) => globFolders(dir, glob).some((candidate) => packageName(candidate) === "@sluice/core"))
      return listed && hasCore ? dir : undefined
    }
    if (dirname(dir) === dir) return undefined
  }
}
