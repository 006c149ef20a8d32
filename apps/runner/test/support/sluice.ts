/**
 * Test support: runs the real `sluice` executable (node apps/runner/src/main.ts) as a child
 * process, collects its stdout and stderr lines, and waits for lines or for its exit.
 *
 * On a busy machine: wait for what a test expects with `waitForLine` / `eventually` (deadlines,
 * never sleeps), and bind the admin server to port 0 and read its URL with `adminUrl`.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { afterEach } from "vitest"

const main = new URL("../../src/main.ts", import.meta.url).pathname

export interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

export interface Sluice {
  readonly child: ChildProcess
  readonly stdout: Array<string>
  readonly stderr: Array<string>
  readonly exited: Promise<Exit>
  /** Resolves with the first line (of stdout or stderr) matching, or rejects after `timeoutMs`. */
  readonly waitForLine: (stream: "stdout" | "stderr", match: RegExp, timeoutMs?: number) => Promise<string>
}

/** The environment without DATABASE_URL (so the embedded default applies), plus `extra`. */
export const envWithout = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => {
  const { DATABASE_URL: _, ...rest } = process.env
  return { ...rest, ...extra }
}

/** Starts `sluice args...`. */
export const start = (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}
): Sluice => {
  const child = spawn(process.execPath, [main, ...args], {
    cwd: options.cwd ?? process.cwd(),
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines = { stdout: [] as Array<string>, stderr: [] as Array<string> }
  const waiters: Array<() => void> = []
  for (const name of ["stdout", "stderr"] as const) {
    let partial = ""
    child[name]!.setEncoding("utf8").on("data", (chunk: string) => {
      const parts = (partial + chunk).split("\n")
      partial = parts.pop() ?? ""
      lines[name].push(...parts)
      for (const wake of waiters.splice(0)) wake()
    })
    child[name]!.on("end", () => {
      if (partial !== "") lines[name].push(partial)
      for (const wake of waiters.splice(0)) wake()
    })
  }
  const exited = new Promise<Exit>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })))
  const waitForLine = (stream: "stdout" | "stderr", match: RegExp, timeoutMs = 60_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`no ${stream} line matching ${match} within ${timeoutMs} ms:\n${lines.stderr.join("\n")}`)),
        timeoutMs
      )
      const check = () => {
        const found = lines[stream].find((line) => match.test(line))
        if (found !== undefined) {
          clearTimeout(timer)
          resolve(found)
        } else waiters.push(check)
      }
      check()
    })
  return { child, stdout: lines.stdout, stderr: lines.stderr, exited, waitForLine }
}

/** Runs `sluice args...` to completion. */
export const runToEnd = async (
  args: ReadonlyArray<string>,
  options: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv } = {}
) => {
  const sluice = start(args, options)
  const exit = await sluice.exited
  await new Promise((resolve) => setImmediate(resolve))
  return { ...exit, stdout: sluice.stdout.join("\n"), stderr: sluice.stderr.join("\n") }
}

/**
 * Polls `check` every 50 ms until it is true, or throws after `timeoutMs`. Use it instead of a
 * sleep whenever a test waits for something to happen: it only costs time when it fails, so the
 * deadline can be generous for a busy machine.
 */
export const eventually = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/**
 * The admin URL a running sluice logged at start ("admin server listening", JSON or pretty logs).
 * Configs in tests bind the admin server to port 0 (`admin: { port: 0 }`; `exampleConfig` does it
 * for the examples) and read the port here: a fixed port fails whenever anything else holds it.
 */
export const adminUrl = async (sluice: Sluice, timeoutMs = 60_000): Promise<string> => {
  const line = await sluice.waitForLine("stderr", /admin server listening/, timeoutMs)
  const url = /"url":"([^"]+)"/.exec(line)?.[1]
  if (url === undefined) throw new Error(`no url in the admin server's log line: ${line}`)
  return url
}

/** The URL a running sluice's push source `source` logged at start ("push source listening"). */
export const pushUrl = async (sluice: Sluice, source: string, timeoutMs = 60_000): Promise<string> => {
  const line = await sluice.waitForLine(
    "stderr",
    new RegExp(`push source listening.*"source":"${source}"|"source":"${source}".*push source listening`),
    timeoutMs
  )
  const url = /"url":"([^"]+)"/.exec(line)?.[1]
  if (url === undefined) throw new Error(`no url in the push source's log line: ${line}`)
  return url
}

/** Kills `sluice` (SIGKILL) if it still runs, and waits for its exit: a test's cleanup. */
export const kill = (sluice: Sluice): Promise<Exit> => {
  if (sluice.child.exitCode === null && sluice.child.signalCode === null) sluice.child.kill("SIGKILL")
  return sluice.exited
}

/**
 * An array for a test file's processes: after each test, those still running are killed, so that a
 * failed expectation does not leave one holding its data directory or port.
 */
export const killedAfterEach = (): Array<Sluice> => {
  const started: Array<Sluice> = []
  afterEach(async () => {
    for (const sluice of started.splice(0)) await kill(sluice)
  })
  return started
}
