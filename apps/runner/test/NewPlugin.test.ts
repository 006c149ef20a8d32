/**
 * `sluice new plugin` without running what it makes (NewPlugin.e2e.test.ts does): NAME checks, the
 * refusal to write into a folder that holds something, the ranges read from the manifests, the
 * renaming of the templates, and the workspace detection.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { createPlugin } from "../src/NewPlugin.ts"
import { parsePluginName } from "../src/PluginName.ts"
import { sluiceWorkspaceOf, workspaceGlobs } from "../src/PnpmWorkspace.ts"

const repo = join(import.meta.dirname, "../../..")
const scratch = mkdtempSync(join(tmpdir(), "sluice-new-plugin-unit-"))
afterAll(() => rmSync(scratch, { recursive: true, force: true, maxRetries: 5 }))
let count = 0
const freshDir = () => {
  const dir = join(scratch, `d${++count}`)
  mkdirSync(dir)
  return dir
}

const readJson = (file: string) => JSON.parse(readFileSync(file, "utf8"))

describe("sluice new plugin: NAME", () => {
  it.effect("an npm name, scoped or not, gives the folder (last segment) and the identifier", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* parsePluginName("my-transport"), {
        name: "my-transport",
        folder: "my-transport",
        identifier: "MyTransport"
      })
      assert.deepStrictEqual(yield* parsePluginName("@acme/kafka_out.v2"), {
        name: "@acme/kafka_out.v2",
        folder: "kafka_out.v2",
        identifier: "KafkaOutV2"
      })
      assert.strictEqual((yield* parsePluginName("3d-view")).identifier, "Plugin3dView")
    })
  )

  it.effect("a name npm would refuse is refused, naming the value and the rule it breaks", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["", "it is empty"],
        ["My-Transport", "npm package names are lower case"],
        ["my transport", "it contains white space"],
        ["@acme", "a scoped name is @scope/name"],
        ["@acme/", "a scoped name is @scope/name"],
        ["acme/transport", "only a scoped name (@scope/name) has a '/'"],
        ["my+transport!", `it contains "+!": use letters a-z, digits, '-', '.' and '_'`],
        ["café", `it contains "é"`],
        [".hidden", "it starts with '.' or '_'"],
        ["@acme/_x", "it starts with '.' or '_'"],
        ["http", "it is the name of a Node.js built-in module"],
        ["node_modules", "npm reserves it"],
        ["effect", "the plugin depends on a package of that name"],
        ["x".repeat(215), "it has 215 characters, npm allows 214"]
      ]
      for (const [name, reason] of cases) {
        const error = yield* Effect.flip(parsePluginName(name))
        expect(error.message).toContain(`invalid plugin name ${JSON.stringify(name)}: ${reason}`)
      }
    })
  )
})

describe("sluice new plugin: the target folder", () => {
  it.effect("a folder that holds anything is refused, naming it and what it holds, and nothing is written", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      mkdirSync(join(dir, "my-transport"))
      for (const name of ["a.txt", "b.txt", "c.txt", "d.txt"]) writeFileSync(join(dir, "my-transport", name), "")
      const error = yield* Effect.flip(createPlugin({ name: "my-transport", kind: "transport", dir }))
      assert.strictEqual(error._tag, "TargetFolderError")
      expect(error.message).toBe(
        `cannot create the plugin in ${join(dir, "my-transport")}: the folder is not empty (it holds a.txt, b.txt, c.txt, and 1 more); choose another --dir or NAME`
      )
      assert.deepStrictEqual(readdirSync(join(dir, "my-transport")), ["a.txt", "b.txt", "c.txt", "d.txt"])
      writeFileSync(join(dir, "my-source"), "")
      const file = yield* Effect.flip(createPlugin({ name: "my-source", kind: "source", dir }))
      expect(file.message).toContain("it exists and is not a folder")
    })
  )

  it.effect("an empty folder is used; --dir is relative to the working directory", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      mkdirSync(join(dir, "plugins", "quotes"), { recursive: true })
      const created = yield* createPlugin({ name: "@acme/quotes", kind: "source", dir: "plugins" }, dir)
      assert.strictEqual(created.folder, join(dir, "plugins", "quotes"))
      assert.isTrue(existsSync(join(dir, "plugins", "quotes", "src", "Quotes.ts")))
    })
  )
})

describe("sluice new plugin: the files", () => {
  it.effect("templates are renamed everywhere: package name, folder in paths, identifiers", () =>
    Effect.gen(function* () {
      const dir = freshDir()
      const created = yield* createPlugin({ name: "@acme/kafka-out", kind: "transport", dir })
      expect(created.files.map((f) => f.path)).toEqual([
        ".gitignore",
        "README.md",
        "package.json",
        "src/KafkaOut.ts",
        "src/index.ts",
        "test/KafkaOut.test.ts",
        "tsconfig.build.json",
        "tsconfig.json"
      ])
      for (const file of created.files) {
        expect(file.text, file.path).not.toMatch(/example-transport|ExampleTransport/)
        expect(readFileSync(join(created.folder, file.path), "utf8")).toBe(file.text)
      }
      const index = created.files.find((f) => f.path === "src/index.ts")!.text
      expect(index).toContain('export const KafkaOutPlugin = Plugin.define({\n  name: "@acme/kafka-out",')
      expect(created.files.find((f) => f.path === "README.md")!.text).toContain("./plugins/kafka-out/dist/index.js")
    })
  )

  it.effect("the package.json takes its ranges from the runner's and @sluice/core's manifests", () =>
    Effect.gen(function* () {
      const runner = readJson(join(repo, "apps/runner/package.json"))
      const core = readJson(join(repo, "packages/core/package.json"))
      const created = yield* createPlugin({ name: "my-source", kind: "source", dir: freshDir() })
      const manifest = readJson(join(created.folder, "package.json"))
      const coreRange = `^${core.version}`
      assert.deepStrictEqual(manifest.engines, runner.engines)
      assert.deepStrictEqual(manifest.peerDependencies, {
        "@sluice/core": coreRange,
        effect: runner.peerDependencies.effect
      })
      assert.deepStrictEqual(manifest.devDependencies, {
        "@effect/vitest": core.peerDependencies["@effect/vitest"],
        "@sluice/core": coreRange,
        "@types/node": runner.devDependencies["@types/node"],
        effect: runner.peerDependencies.effect,
        typescript: `^${runner.devDependencies.typescript}`,
        vitest: core.peerDependencies.vitest
      })
      assert.deepStrictEqual(manifest.exports, { ".": { types: "./dist/index.d.ts", default: "./dist/index.js" } })
      assert.deepStrictEqual(manifest.sideEffects, [])
      assert.strictEqual(manifest.scripts.prepare, "tsc -p tsconfig.build.json")
    })
  )
})

describe("sluice new plugin: inside a pnpm workspace", () => {
  it("reads pnpm-workspace.yaml's package globs, block or flow style", () => {
    const yaml = "packages:\n  - packages/*\n  - 'apps/*' # apps\n  - \"!apps/old\"\n\nallowBuilds:\n  esbuild: true\n"
    assert.deepStrictEqual(workspaceGlobs(yaml), ["packages/*", "apps/*", "!apps/old"])
    assert.deepStrictEqual(workspaceGlobs("packages: [packages/*, 'plugins/**']\n"), ["packages/*", "plugins/**"])
    assert.deepStrictEqual(workspaceGlobs("allowBuilds: {}\n"), [])
  })

  it("a folder is in Sluice's workspace when a pnpm-workspace.yaml above lists it and holds @sluice/core", () => {
    assert.strictEqual(sluiceWorkspaceOf(join(repo, "packages", "my-plugin")), repo)
    assert.strictEqual(sluiceWorkspaceOf(join(repo, "docs", "my-plugin")), undefined, "not listed")
    assert.strictEqual(sluiceWorkspaceOf(join(freshDir(), "my-plugin")), undefined, "no workspace")
    const other = freshDir()
    writeFileSync(join(other, "pnpm-workspace.yaml"), "packages:\n  - plugins/*\n")
    assert.strictEqual(sluiceWorkspaceOf(join(other, "plugins", "x")), undefined, "a workspace without Sluice")
  })

  it.effect("there, @sluice/core is a workspace: dependency", () =>
    Effect.gen(function* () {
      const root = freshDir()
      writeFileSync(join(root, "pnpm-workspace.yaml"), "packages:\n  - core\n  - plugins/**\n  - '!plugins/old/*'\n")
      mkdirSync(join(root, "core"))
      writeFileSync(join(root, "core", "package.json"), '{ "name": "@sluice/core" }')
      const created = yield* createPlugin({ name: "my-transport", kind: "transport", dir: join(root, "plugins/net") })
      assert.strictEqual(created.workspace, root)
      const manifest = readJson(join(created.folder, "package.json"))
      assert.strictEqual(manifest.peerDependencies["@sluice/core"], "workspace:^")
      assert.strictEqual(manifest.devDependencies["@sluice/core"], "workspace:*")
      const excluded = yield* createPlugin({ name: "my-source", kind: "source", dir: join(root, "plugins/old") })
      assert.strictEqual(excluded.workspace, undefined)
      assert.match(readJson(join(excluded.folder, "package.json")).peerDependencies["@sluice/core"], /^\^\d/)
    })
  )
})
