/**
 * The package manifests: what an installing user gets. publint, attw and deno publish check the packed
 * tarballs (scripts/check-packages.ts, in bin/test); these are the rules they cannot know:
 * one shared copy of `effect` and `@sluice/core`, one Node version everywhere (the linked `sluice` bin: bin.e2e.test.ts).
 */
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { packageDirs, syncManifests } from "./package-manifests.ts"

const root = join(import.meta.dirname, "..")

interface Manifest {
  readonly name: string
  readonly license?: string
  readonly repository?: { readonly type?: string; readonly url?: string; readonly directory?: string }
  readonly engines?: { readonly node?: string }
  readonly files?: ReadonlyArray<string>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
  readonly publishConfig?: { readonly exports?: Record<string, Record<string, string>> }
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(root, dir, "package.json"), "utf8"))

describe("packages", () => {
  it("effect is a peer of every package, @sluice/core of every other one: never a dependency", () => {
    for (const dir of packageDirs) {
      const pkg = manifest(dir)
      const shared = pkg.name === "@sluice/core" ? ["effect"] : ["effect", "@sluice/core"]
      for (const name of shared) {
        expect(pkg.peerDependencies?.[name], `${pkg.name} peer ${name}`).toBeDefined()
        expect(pkg.devDependencies?.[name], `${pkg.name} dev ${name}`).toBeDefined()
        expect(pkg.dependencies?.[name], `${pkg.name} dependency ${name}`).toBeUndefined()
      }
    }
  })

  it("every package ships dist/ (and the data it reads) with types first, a license, a README and Node 22.19+", () => {
    const rootEngines = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).engines
    expect(rootEngines).toEqual({ node: ">=22.19.0" })
    for (const dir of packageDirs) {
      const pkg = manifest(dir)
      expect(pkg.engines, pkg.name).toEqual({ node: ">=22.19.0" })
      expect(pkg.license, pkg.name).toBe("MIT")
      // dist first; data a package reads at run time (plugin-yfinance's recordings) or documents
      // (store-postgres's migrations and schema dump) may follow.
      expect(pkg.files?.[0], pkg.name).toBe("dist")
      for (const entry of pkg.files?.slice(1) ?? []) {
        expect(existsSync(join(root, dir, entry)), `${dir}/${entry}`).toBe(true)
      }
      expect(existsSync(join(root, dir, "LICENSE")), `${dir}/LICENSE`).toBe(true)
      expect(existsSync(join(root, dir, "README.md")), `${dir}/README.md`).toBe(true)
      for (const [subpath, conditions] of Object.entries(pkg.publishConfig?.exports ?? {})) {
        expect(Object.keys(conditions), `${pkg.name} ${subpath}`).toEqual(["types", "default"])
      }
      expect(syncManifests(join(root, dir), false), `${dir}: run node scripts/check-packages.ts --fix`).toEqual([])
    }
  })

  it("every package names its folder in the repository, and its README links only to absolute URLs (npm shows it alone)", () => {
    const repository = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).repository
    expect(repository?.url).toMatch(/^git\+https:\/\/github\.com\/[\w.-]+\/[\w.-]+\.git$/)
    const web = repository.url.replace(/^git\+/, "").replace(/\.git$/, "")
    for (const dir of packageDirs) {
      const pkg = manifest(dir)
      expect(pkg.repository, pkg.name).toEqual({ type: "git", url: repository.url, directory: dir })
      const readme = readFileSync(join(root, dir, "README.md"), "utf8")
      // Inline links and images `](target)`, reference definitions `[name]: target`, HTML href/src.
      const targets = [
        ...readme.matchAll(/\]\(\s*<?([^)\s>]+)/g),
        ...readme.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm),
        ...readme.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)/g)
      ].map((match) => match[1]!)
      for (const target of targets) {
        expect(/^(https?:|mailto:|#)/.test(target), `${dir}/README.md links to ${target}`).toBe(true)
        // A link into this repository names a file or folder that exists.
        const inRepo = new RegExp(`^${web.replaceAll(".", "\\.")}/(?:tree|blob)/main/([^#?]+)`).exec(target)
        if (inRepo !== null) expect(existsSync(join(root, inRepo[1]!)), target).toBe(true)
      }
    }
  })

  it("the READMEs state one Node version: 22.19 or later", () => {
    const readme = readFileSync(join(root, "README.md"), "utf8")
    expect(readme).toContain("Sluice itself runs on Node.js 22.19 or later")
    // Every "Node 22", "Node.js 22.19+", "Node v20"... in a README: major 22, and no other minor than 19
    // (but for the running version in a quoted refusal: "this is Node.js 20.20.2").
    for (const file of ["README.md", ...packageDirs.map((dir) => join(dir, "README.md"))]) {
      const text = readFileSync(join(root, file), "utf8").replaceAll(/this is Node\.js [\d.]+/g, "")
      for (const [mention, major, minor] of text.matchAll(/Node(?:\.js)?\s+\(?v?(\d+)(?:\.(\d+))?/g)) {
        expect({ file, mention, ok: major === "22" && (minor === undefined || minor === "19") }).toEqual({
          file,
          mention,
          ok: true
        })
      }
    }
  })
})
