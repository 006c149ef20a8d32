/**
 * A plugin that brought its own copy of `effect` or `@sluice/core` is refused by `sluice validate`
 * (exit 2), naming the plugin's copy and the runner's, before the plugin is imported: by path and
 * by package name, every such plugin in one pass.
 */
import { mkdirSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, describe, expect, it } from "vitest"
import { removeTempDirs, tempDir } from "./support/config.ts"
import { envWithout, runToEnd } from "./support/sluice.ts"

afterAll(removeTempDirs)

const runnerCopy = (name: string) => realpathSync(fileURLToPath(new URL(`../node_modules/${name}`, import.meta.url)))

/** A tiny stand-in package: enough for Node's lookup to find it (it is never imported). */
const fakePackage = (dir: string, name: string) => {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name, version: "0.0.0-own-copy", type: "module" }))
  writeFileSync(join(dir, "index.js"), `throw new Error("a plugin's own copy was imported")\n`)
}

// A plugin as its author would write it; it must not even be imported when its copies are wrong.
const pluginSource = `import { Plugin } from "@sluice/core"
import { Effect, Schema } from "effect"
export const plugin = Plugin.define({ name: "own", kind: "source", config: Schema.Struct({}), make: () => Effect.die("no") })
`

describe("a plugin with its own copy of effect or @sluice/core", () => {
  it("is refused by validate with exit 2, naming both copies, by path and by package name", async () => {
    const dir = tempDir("sluice-copies-")
    // By path: a plugin folder with its own node_modules/effect.
    const byPath = join(dir, "plugins", "own-effect")
    mkdirSync(byPath, { recursive: true })
    writeFileSync(join(byPath, "plugin.js"), pluginSource)
    fakePackage(join(byPath, "node_modules", "effect"), "effect")
    // By package name: an installed plugin with nested copies of both.
    const installed = join(dir, "node_modules", "acme-source")
    mkdirSync(installed, { recursive: true })
    writeFileSync(
      join(installed, "package.json"),
      JSON.stringify({ name: "acme-source", type: "module", main: "index.js" })
    )
    writeFileSync(join(installed, "index.js"), pluginSource)
    fakePackage(join(installed, "node_modules", "effect"), "effect")
    fakePackage(join(installed, "node_modules", "@sluice", "core"), "@sluice/core")
    const file = join(dir, "sluice.json")
    writeFileSync(
      file,
      JSON.stringify({
        store: { driver: "memory" },
        sources: [
          { name: "a", plugin: "./plugins/own-effect/plugin.js" },
          { name: "b", plugin: "acme-source" }
        ],
        admin: { enabled: false }
      })
    )

    const result = await runToEnd(["validate", "--config", file], { cwd: tempDir(), env: envWithout() })
    expect(result.code).toBe(2)
    const effect = runnerCopy("effect")
    const core = runnerCopy("@sluice/core")
    const real = realpathSync(dir)
    expect(result.stderr).toContain(
      `source plugin "./plugins/own-effect/plugin.js" would load its own copy of effect at ${real}/plugins/own-effect/node_modules/effect (the runner's is ${effect})`
    )
    expect(result.stderr).toContain('at ["sources"][0]["plugin"]')
    expect(result.stderr).toContain(
      `source plugin "acme-source" would load its own copy of effect at ${real}/node_modules/acme-source/node_modules/effect (the runner's is ${effect}), and its own copy of @sluice/core at ${real}/node_modules/acme-source/node_modules/@sluice/core (the runner's is ${core})`
    )
    expect(result.stderr).toContain("Make effect a peer dependency of the plugin")
    expect(result.stderr).toContain("Make effect and @sluice/core peer dependencies of the plugin")
    expect(result.stderr).toContain("install its tarball, `npm pack` then `npm install ./NAME-VERSION.tgz`")
    expect(result.stderr).toContain('at ["sources"][1]["plugin"]')
    expect(result.stderr).not.toContain("was imported")
  }, 60_000)
})
