/**
 * Architecture rules that a reviewer should not have to check by eye:
 * - packages/core/src imports nothing but `effect` (and its own files): it must run on any runtime;
 * - imports go one way, apps -> plugins -> core: a package never imports an app, and core never
 *   imports another package;
 * - no default exports anywhere in shipped code.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { describe, expect, it } from "@effect/vitest"

const root = join(import.meta.dirname, "..")

const sources = (dir: string): Array<string> =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return name === "node_modules" ? [] : sources(path)
    return path.endsWith(".ts") ? [path] : []
  })

/** Every module a file names: `import ... from`, `export ... from`, bare `import "x"` and `import("x")`. */
const specifiers = (file: string): Array<string> => {
  const text = readFileSync(file, "utf8")
  const patterns = [
    /(?:^|\n)\s*(?:import|export)\b[^"'`;]*?from\s*["']([^"']+)["']/g,
    /(?:^|\n)\s*import\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g
  ]
  return patterns.flatMap((pattern) => [...text.matchAll(pattern)].map((m) => m[1]!))
}

/** A relative specifier resolved against its file. */
const resolved = (file: string, specifier: string) => join(dirname(file), specifier)

const packageDirs = readdirSync(join(root, "packages")).map((name) => join(root, "packages", name, "src"))
const appDirs = readdirSync(join(root, "apps")).map((name) => join(root, "apps", name, "src"))

describe("architecture", () => {
  it("core/src imports only effect and its own modules", () => {
    const coreSrc = join(root, "packages/core/src")
    const offenders = sources(coreSrc).flatMap((file) =>
      specifiers(file)
        .filter((s) =>
          s.startsWith(".")
            ? relative(coreSrc, resolved(file, s)).startsWith("..")
            : !(s === "effect" || s.startsWith("effect/"))
        )
        .map((s) => `${relative(root, file)}: ${s}`)
    )
    expect(offenders).toEqual([])
  })

  it("a package's relative imports stay inside that package", () => {
    const offenders = [...packageDirs, ...appDirs].flatMap((dir) =>
      sources(dir).flatMap((file) =>
        specifiers(file)
          .filter((s) => s.startsWith(".") && relative(join(dir, ".."), resolved(file, s)).startsWith(".."))
          .map((s) => `${relative(root, file)}: ${s}`)
      )
    )
    expect(offenders).toEqual([])
  })

  it("packages never import apps, and plugins never import each other", () => {
    const offenders = packageDirs.flatMap((dir) =>
      sources(dir).flatMap((file) =>
        specifiers(file)
          .filter((s) => s.startsWith("@sluice/") && !s.startsWith("@sluice/core"))
          .map((s) => `${relative(root, file)}: ${s}`)
      )
    )
    expect(offenders).toEqual([])
  })

  it("no default exports in shipped code", () => {
    const offenders = [...packageDirs, ...appDirs]
      .flatMap((dir) => sources(dir))
      .filter((file) => /(^|\n)\s*export\s+default\b|\bas\s+default\b/.test(readFileSync(file, "utf8")))
      .map((file) => relative(root, file))
    expect(offenders).toEqual([])
  })

  it("the rules see the code (the scan finds core's modules and their imports)", () => {
    const core = sources(join(root, "packages/core/src"))
    expect(core.length).toBeGreaterThan(10)
    expect(core.flatMap(specifiers)).toContain("effect")
  })
})
