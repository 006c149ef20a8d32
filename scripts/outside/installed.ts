/**
 * Checks of each installed package, as npm laid it out in the outside project:
 * - every subpath of its `exports` loads in Node (an entry pointing at a file that is not there fails);
 * - every module its files import is a dependency or peer it declares. Running it cannot show this:
 *   npm hoists, so a package that forgot a dependency still finds it when another package (or the
 *   project itself) brought it;
 * and, once for all, that `tsc --noEmit` (strict, NodeNext, declaration files checked) compiles the
 * user's program (fixtures/api.ts) with a file importing every subpath of every package.
 */

import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { join, relative } from "node:path"
import { type Checks, run } from "../checks.ts"
import { outside } from "./project.ts"

interface Manifest {
  readonly name: string
  readonly exports?: Record<string, unknown>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly optionalDependencies?: Record<string, string>
}

const manifestOf = (project: string, name: string): Manifest =>
  JSON.parse(readFileSync(join(project, "node_modules", name, "package.json"), "utf8")) as Manifest

/** `@sluice/core` + `./testing` -> `@sluice/core/testing`. */
const specifiersOf = (manifest: Manifest): ReadonlyArray<string> =>
  Object.keys(manifest.exports ?? { ".": "" }).map((subpath) =>
    subpath === "." ? manifest.name : `${manifest.name}${subpath.slice(1)}`
  )

const files = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : files(path)
    return /\.(m?js|d\.ts)$/.test(name) ? [path] : []
  })

/** The modules a JS or declaration file names: `import`/`export ... from`, bare `import "x"`, `import("x")`. */
const importsOf = (file: string): ReadonlyArray<string> => {
  const text = readFileSync(file, "utf8")
  const patterns = [
    /(?:^|\n|;)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']/g,
    /(?:^|\n|;)\s*import\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g
  ]
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((match) => match[1]!))
}

/** `@scope/name/sub` -> `@scope/name`, `name/sub` -> `name`; undefined for relative and built-in modules. */
const packageOf = (specifier: string): string | undefined => {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return undefined
  const parts = specifier.split("/")
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!
  return builtinModules.includes(name) ? undefined : name
}

/** Each package's files import only what it declares: `package -> files importing it` for the rest. */
export const undeclaredImports = (project: string, name: string): Map<string, Array<string>> => {
  const manifest = manifestOf(project, name)
  const declared = new Set([
    manifest.name,
    ...Object.keys(manifest.dependencies ?? {}),
    ...Object.keys(manifest.peerDependencies ?? {}),
    ...Object.keys(manifest.optionalDependencies ?? {})
  ])
  const dir = join(project, "node_modules", name)
  const missing = new Map<string, Array<string>>()
  for (const file of files(dir)) {
    for (const imported of importsOf(file)) {
      const owner = packageOf(imported)
      if (owner === undefined || declared.has(owner)) continue
      missing.set(owner, [...(missing.get(owner) ?? []), relative(dir, file)])
    }
  }
  return missing
}

/** One check per package: its exports load in Node; one more: it imports only what it declares. */
export const checkInstalled = (checks: Checks, project: string, names: ReadonlyArray<string>): void => {
  for (const name of names) {
    const specifiers = specifiersOf(manifestOf(project, name))
    const script = `for (const s of ${JSON.stringify(specifiers)}) await import(s).catch((e) => { process.exitCode = 1; console.error(s + ": " + e.message) })`
    checks.check(
      `${name}: every export loads in Node (${specifiers.join(", ")})`,
      process.execPath,
      ["--input-type=module", "-e", script],
      project,
      outside(120_000)
    )
    const missing = undeclaredImports(project, name)
    checks.record(
      `${name}: imports only its declared dependencies and peers`,
      missing.size === 0,
      [...missing]
        .map(([owner, from]) => `imports ${owner} (in ${from.slice(0, 3).join(", ")}) without declaring it`)
        .join("; ")
    )
  }
}

/** A tsc diagnostic's file: `path(line,col): error ...`. */
const diagnosticFile = (line: string) => /^(.+?)\(\d+,\d+\): error /.exec(line)?.[1]

/**
 * `tsc --noEmit` on the user's files plus `exports.ts`, which imports every subpath of every
 * package. Declaration files are checked (`skipLibCheck: false`) so that a `.d.ts` naming one that
 * is not there fails; errors inside other libraries' own declarations (not ours to fix) are listed
 * but do not count.
 */
export const checkTypes = (checks: Checks, project: string, names: ReadonlyArray<string>): void => {
  const specifiers = names.flatMap((name) => specifiersOf(manifestOf(project, name)))
  const lines = [
    "// Generated by scripts/outside/installed.ts: every subpath of every installed package.",
    ...specifiers.map((specifier, i) => `import * as m${i} from "${specifier}"`),
    `export const modules = [${specifiers.map((_, i) => `m${i}`).join(", ")}]`
  ]
  writeFileSync(join(project, "exports.ts"), `${lines.join("\n")}\n`)
  const started = Date.now()
  const result = run("npx", ["tsc", "--noEmit", "-p", ".", "--pretty", "false"], project, outside())
  const diagnostics = result.output.split("\n").filter((line) => diagnosticFile(line) !== undefined)
  const ours = (file: string) =>
    !file.startsWith("node_modules/") || names.some((n) => file.startsWith(`node_modules/${n}/`))
  const counted = diagnostics.filter((line) => ours(diagnosticFile(line)!))
  const others = new Set(diagnostics.filter((line) => !ours(diagnosticFile(line)!)).map((l) => diagnosticFile(l)!))
  checks.record(
    "tsc --noEmit: the user's program (strict, NodeNext) and every export's types",
    (result.ok || diagnostics.length > 0) && counted.length === 0,
    counted.length > 0 ? counted.slice(0, 30).join("\n") : result.output.trim(),
    Date.now() - started
  )
  if (others.size > 0)
    console.log(`      not counted: errors in other libraries' own declarations: ${[...others].join(", ")}`)
}
