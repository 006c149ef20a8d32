/**
 * `deno task sluice:deno run --config ...` from a copy of the repository's files without any
 * node_modules (what a Deno-only user has after cloning): the task resolves the npm packages itself
 * (`--node-modules-dir=none`, Deno's global cache), delivers replayed quotes to the console, and
 * exits 0 on SIGTERM. Collected by runtime-tests/deno/vitest.config.ts only.
 */
import { execFileSync } from "node:child_process"
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { afterAll, expect, it } from "vitest"
import { eventually } from "../../apps/runner/test/support/sluice.ts"

/** The part of Deno's API used here (no Deno types in this Node-typed project). */
interface DenoCommand {
  readonly execPath: () => string
  readonly Command: new (
    command: string,
    options: { args: Array<string>; cwd: string; stdout: "piped"; stderr: "piped" }
  ) => {
    spawn: () => {
      readonly stdout: ReadableStream<Uint8Array>
      readonly stderr: ReadableStream<Uint8Array>
      readonly status: Promise<{ code: number; signal: string | null }>
      kill: (signal: "SIGTERM" | "SIGKILL") => void
    }
  }
}
const deno = (globalThis as { Deno?: DenoCommand }).Deno
if (deno === undefined) throw new Error("task.deno.test.ts runs under Deno only (runtime-tests/deno/vitest.config.ts)")

const root = new URL("../..", import.meta.url).pathname
const copy = mkdtempSync(join(tmpdir(), "sluice-deno-task-"))
afterAll(() => rmSync(copy, { recursive: true, force: true }))

/** The repository's tracked files as they are now (a fresh clone of this working tree), nothing else. */
const copyTrackedFiles = () => {
  const files = execFileSync("git", ["ls-files", "-z"], { cwd: root, encoding: "utf8" }).split("\0")
  for (const file of files) {
    if (file === "") continue
    mkdirSync(dirname(join(copy, file)), { recursive: true })
    try {
      cpSync(join(root, file), join(copy, file))
    } catch {
      // A tracked file deleted in the working tree: not in the clone either.
    }
  }
}

const collect = (stream: ReadableStream<Uint8Array>, into: Array<string>) =>
  stream.pipeThrough(new TextDecoderStream()).pipeTo(new WritableStream({ write: (chunk) => void into.push(chunk) }))

it("deno task sluice:deno runs the runner from a checkout without node_modules", async () => {
  copyTrackedFiles()
  const config = join(copy, "deno-task.json")
  writeFileSync(
    config,
    JSON.stringify({
      store: { driver: "memory" },
      sources: [{ name: "quotes", plugin: "@sluice/plugin-yfinance/replay", options: { symbols: ["AAPL", "BABA"] } }],
      transports: [{ name: "console", plugin: "@sluice/transport-console", options: { format: "json" } }],
      routes: [{ name: "quotes-to-console", transport: "console", topic: "quotes", match: ["quote.*"] }],
      relay: { gracePeriod: "5 seconds" },
      admin: { enabled: false }
    })
  )
  const child = new deno.Command(deno.execPath(), {
    args: ["task", "sluice:deno", "run", "--config", config],
    cwd: copy,
    stdout: "piped",
    stderr: "piped"
  }).spawn()
  const stdout: Array<string> = []
  const stderr: Array<string> = []
  const drained = Promise.all([collect(child.stdout, stdout), collect(child.stderr, stderr)])
  // A cold Deno cache downloads the packages first.
  const delivered = await eventually(
    "a quote on the console",
    () => stdout.join("").includes('"topic":"quotes"'),
    150_000
  ).then(
    () => true,
    () => false
  )
  // SIGTERM to `deno task` alone: it forwards it to the runner, which drains and stops.
  child.kill("SIGTERM")
  expect(delivered, stderr.join("").slice(-2_000)).toBe(true)
  const status = await child.status
  await drained
  expect(status.code, stderr.join("").slice(-2_000)).toBe(0)
  expect(stderr.join("")).toContain("sluice stopped")
}, 180_000)
