/**
 * `sluice new plugin` as a user runs it: the real command creates a transport and a source in a
 * temporary folder outside the workspace; right after, each builds with its own tsc, passes its own
 * tests (vitest in a child process, from the package's folder), and `sluice validate` and `sluice
 * run` load both by path. The packages' dependencies come from this repository's node_modules
 * through a symlinked node_modules beside them, pointing at the very copies the runner loads (a
 * copy of its own would be refused, see PluginCopies.e2e.test.ts).
 */
import { spawn } from "node:child_process"
import { mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { removeTempDirs, tempDir } from "./support/config.ts"
import { startReceiver } from "./support/receiver.ts"
import { eventually, runToEnd, start } from "./support/sluice.ts"

const repo = join(import.meta.dirname, "../../..")
const core = join(repo, "packages/core")

/** Each dependency of a generated package, as the copy this repository resolves (core's, for the shared ones). */
const dependencies: Record<string, string> = {
  "@sluice/core": core,
  effect: join(core, "node_modules/effect"),
  vitest: join(core, "node_modules/vitest"),
  "@effect/vitest": join(core, "node_modules/@effect/vitest"),
  typescript: join(repo, "node_modules/typescript"),
  "@types/node": join(repo, "node_modules/@types/node")
}

/** A child process's outcome, its output as one text. */
const exec = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  new Promise<{ readonly code: number | null; readonly output: string }>((resolve) => {
    // The child is a fresh vitest or tsc, not a worker of this one.
    const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("VITEST")))
    const child = spawn(command, args, { cwd, env: { ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.on("exit", (code) => resolve({ code, output }))
  })

const node = (script: string, args: ReadonlyArray<string>, cwd: string) =>
  exec(process.execPath, [join(dirname(cwd), "node_modules", script), ...args], cwd)

let dir = ""
const created: Record<string, { code: number | null; stdout: string; stderr: string }> = {}

beforeAll(async () => {
  dir = tempDir("sluice-new-plugin-")
  created.transport = await runToEnd(["new", "plugin", "my-transport", "--kind", "transport", "--dir", dir])
  created.source = await runToEnd(["new", "plugin", "@acme/my-source", "--kind", "source", "--dir", dir])
  for (const [name, target] of Object.entries(dependencies)) {
    const link = join(dir, "node_modules", name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(realpathSync(target), link)
  }
}, 60_000)
afterAll(removeTempDirs)

describe("sluice new plugin: the generated packages work as generated", () => {
  it("creates each package in --dir, named after the name's last segment, and says what to do next", () => {
    expect(created.transport).toMatchObject({ code: 0, stderr: "" })
    expect(created.transport!.stdout).toContain("created the transport plugin my-transport in ")
    expect(created.transport!.stdout).toContain("  src/MyTransport.ts")
    expect(created.transport!.stdout).toContain("npm install")
    expect(created.source).toMatchObject({ code: 0, stderr: "" })
    const manifest = JSON.parse(readFileSync(join(dir, "my-source/package.json"), "utf8"))
    expect(manifest).toMatchObject({ name: "@acme/my-source", type: "module", files: ["dist"] })
    expect(Object.keys(manifest.peerDependencies)).toEqual(["@sluice/core", "effect"])
  })

  it("a bad NAME, a missing --kind or a folder that holds something is a usage error (exit 2)", async () => {
    const name = await runToEnd(["new", "plugin", "My Transport", "--kind", "transport", "--dir", dir])
    expect(name.code).toBe(2)
    expect(name.stderr).toContain('error: invalid plugin name "My Transport": it contains white space')
    const kind = await runToEnd(["new", "plugin", "other", "--dir", dir])
    expect(kind.code).toBe(2)
    expect(kind.stderr).toContain("--kind")
    const again = await runToEnd(["new", "plugin", "my-transport", "--kind", "source", "--dir", dir])
    expect(again.code).toBe(2)
    expect(again.stderr).toContain(`cannot create the plugin in ${join(dir, "my-transport")}: the folder is not empty`)
    expect(readFileSync(join(dir, "my-transport/src/index.ts"), "utf8")).toContain('kind: "transport"')
  }, 60_000)

  for (const [kind, folder, tests] of [
    ["transport", "my-transport", /Tests\s+11 passed \(11\)/],
    ["source", "my-source", /Tests\s+3 passed \(3\)/]
  ] as const) {
    it(`the ${kind} typechecks, builds to dist/ with tsc, and its tests pass`, async () => {
      const cwd = join(dir, folder)
      const typecheck = await node("typescript/bin/tsc", ["-p", "tsconfig.json"], cwd)
      expect(typecheck).toEqual({ code: 0, output: "" })
      const build = await node("typescript/bin/tsc", ["-p", "tsconfig.build.json"], cwd)
      expect(build).toEqual({ code: 0, output: "" })
      expect(readFileSync(join(cwd, "dist/index.js"), "utf8")).toContain("Plugin.define(")
      const test = await node("vitest/vitest.mjs", ["run"], cwd)
      expect(test.output).toMatch(tests)
      expect(test.code).toBe(0)
      if (kind === "transport") expect(test.output).toContain("Transport contract: my-transport")
    }, 180_000)
  }

  it("sluice validate loads both by path, and names the field of a bad option", async () => {
    const config = (items: ReadonlyArray<string>, url: string) => ({
      store: { driver: "memory" },
      admin: { enabled: false },
      sources: [{ name: "things", plugin: "./my-source/dist/index.js", options: { items, pollInterval: "1 second" } }],
      transports: [{ name: "hook", plugin: "./my-transport/dist/index.js", options: { url } }],
      routes: [{ name: "all", transport: "hook", topic: "things", match: ["**"] }]
    })
    writeFileSync(join(dir, "good.json"), JSON.stringify(config(["a"], "http://127.0.0.1:9/hook")))
    writeFileSync(join(dir, "bad.json"), JSON.stringify(config([], "ftp://example.com")))
    const good = await runToEnd(["validate", "--config", join(dir, "good.json")])
    expect(good.stdout).toContain("is valid: 1 source(s), 1 transport(s), 1 route(s)")
    expect(good.code).toBe(0)
    const bad = await runToEnd(["validate", "--config", join(dir, "bad.json")])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('Expected at least one item\n  at ["sources"][0]["options"]["items"]')
    expect(bad.stderr).toContain('Expected an http:// or https:// URL\n  at ["transports"][0]["options"]["url"]')
  }, 60_000)

  it("the configs of docs/writing-a-plugin.md load them by package name and by path", async () => {
    const guide = readFileSync(join(repo, "docs/writing-a-plugin.md"), "utf8")
    const configs = [...guide.matchAll(/<!-- config -->\n```json\n([\s\S]*?)```/g)].map(([, text]) => text!)
    expect(configs.length).toBe(2)
    // An application with my-transport installed (node_modules) and my-source under plugins/.
    const app = join(dir, "app")
    mkdirSync(join(app, "node_modules"), { recursive: true })
    mkdirSync(join(app, "plugins"))
    symlinkSync(join(dir, "my-transport"), join(app, "node_modules", "my-transport"))
    symlinkSync(join(dir, "my-source"), join(app, "plugins", "my-source"))
    for (const [i, config] of configs.entries()) {
      writeFileSync(join(app, `guide-${i}.json`), config)
      const validate = await runToEnd(["validate", "--config", join(app, `guide-${i}.json`)])
      expect(validate.stderr).toBe("")
      expect(validate.code).toBe(0)
    }
  }, 60_000)

  it("sluice run delivers the source's events through the transport to a receiver", async () => {
    const receiver = await startReceiver()
    const file = join(dir, "run.json")
    writeFileSync(
      file,
      JSON.stringify({
        store: { driver: "memory" },
        admin: { enabled: false },
        sources: [{ name: "things", plugin: "./my-source/dist/index.js", options: { items: ["a", "b"] } }],
        transports: [{ name: "hook", plugin: "./my-transport/dist/index.js", options: { url: receiver.url } }],
        routes: [{ name: "all", transport: "hook", topic: "things", match: ["item.observed"] }]
      })
    )
    const sluice = start(["run", "--config", file])
    try {
      await eventually("both items delivered", () => receiver.acknowledged.size >= 2, 60_000)
      const bodies = receiver.received.map((d) => JSON.parse(d.body) as { topic: string; event: { event_id: string } })
      expect(bodies.map((b) => b.topic)).toEqual(["things", "things"])
      expect(receiver.received.map((d) => d.id)).toEqual(bodies.map((b) => b.event.event_id))
    } finally {
      sluice.child.kill("SIGTERM")
      await receiver.close()
    }
    expect((await sluice.exited).code).toBe(0)
  }, 120_000)
})
