/**
 * The bin on a Node older than its engines: exit 1 with one line naming both versions, before
 * anything that could fail on that Node is loaded. Checked on this Node with its version faked, and
 * on the compiled JavaScript with every older `node` found on PATH (the machine's Node 20 here).
 */
import { spawnSync } from "node:child_process"
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join } from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { nodeVersionProblem } from "../src/NodeVersion.ts"

const runner = new URL("..", import.meta.url).pathname
const root = join(runner, "..", "..")
const required = JSON.parse(readFileSync(join(runner, "package.json"), "utf8")).engines.node as string
const fake = (version: string) =>
  `data:text/javascript,Object.defineProperty(process.versions,"node",{value:${JSON.stringify(version)}})`
const minimum = required.replace(/^>=/, "")
const message = (version: string) =>
  `error: sluice needs Node.js ${required}, and this is Node.js ${version}: ` +
  `install Node.js ${minimum} or later (e.g. nvm install ${minimum.split(".")[0]})\n`

const run = (node: string, args: ReadonlyArray<string>) =>
  spawnSync(node, args, { cwd: root, encoding: "utf8", timeout: 50_000, env: { ...process.env, NO_COLOR: "1" } })

/** Every `node` on PATH older than the runner's engines (not ours), with its version. */
const olderNodes = () =>
  [...new Set((process.env.PATH ?? "").split(delimiter).map((dir) => join(dir, "node")))]
    .filter((file) => file !== process.execPath && existsSync(file))
    .flatMap((file) => {
      const version = run(file, ["--version"]).stdout.trim().replace(/^v/, "")
      return version !== "" && nodeVersionProblem({ node: version }, required) !== undefined ? [{ file, version }] : []
    })

const temp: Array<string> = []
afterAll(() => {
  for (const dir of temp) rmSync(dir, { recursive: true, force: true, maxRetries: 5 })
})

/** main.ts and NodeVersion.ts compiled to JavaScript, beside a copy of the runner's package.json. */
const compiled = () => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-old-node-"))
  temp.push(dir)
  mkdirSync(join(dir, "dist"))
  copyFileSync(join(runner, "package.json"), join(dir, "package.json"))
  const tsc = spawnSync(
    "pnpm",
    [
      "exec",
      "tsc",
      "--ignoreConfig",
      ...["--outDir", join(dir, "dist"), "--rootDir", runner, "--module", "nodenext", "--target", "es2023"],
      ...["--rewriteRelativeImportExtensions", "--allowImportingTsExtensions", "--noResolve", "--noCheck"],
      join(runner, "src", "main.ts"),
      join(runner, "src", "NodeVersion.ts")
    ],
    { cwd: root, encoding: "utf8", timeout: 50_000 }
  )
  expect(`${tsc.stdout}${tsc.stderr}`).toBe("")
  // Loading it would fail (it is not compiled here): proof that the check came first.
  writeFileSync(join(dir, "dist", "src", "Executable.js"), 'throw new Error("loaded the CLI")\n')
  return join(dir, "dist", "src", "main.js")
}

describe("the bin on an older Node", () => {
  it("exits 1 naming the running and the required version (this Node, its version faked)", () => {
    const result = run(process.execPath, ["--import", fake("20.20.2"), join(runner, "src", "main.ts"), "--version"])
    expect(result.stderr).toBe(message("20.20.2"))
    expect(result.stdout).toBe("")
    expect(result.status).toBe(1)
  })

  it("runs as usual on the required version", () => {
    const result = run(process.execPath, ["--import", fake("22.19.0"), join(runner, "src", "main.ts"), "--version"])
    expect(result.stdout).toContain("sluice v")
    expect(result.status).toBe(0)
  })

  it("the compiled bin refuses every older node on PATH before loading the CLI", { timeout: 120_000 }, () => {
    const main = compiled()
    // With no older Node installed, the compiled bin still runs, on this Node with its version faked.
    const nodes = olderNodes()
    const cases =
      nodes.length > 0
        ? nodes.map(({ file, version }) => ({ args: [file], version }))
        : [{ args: [process.execPath, "--import", fake("18.20.0")], version: "18.20.0" }]
    for (const { args, version } of cases) {
      const result = run(args[0]!, [...args.slice(1), main, "--version"])
      expect(result.stderr, args.join(" ")).toBe(message(version))
      expect(result.status, args.join(" ")).toBe(1)
    }
  })
})
