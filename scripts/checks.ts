/**
 * The bookkeeping shared by the package scripts (check-packages.ts, outside-test.ts): one line per
 * check (`ok` or `FAIL` with what went wrong, and how long it took), then "N passed, N failed", and
 * with `--report FILE` the same as JSON `{ passed, failed, problems }`, which scripts/test-all.ts
 * counts (each check is one test).
 */
import { spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"

export interface RunResult {
  readonly ok: boolean
  readonly status: number | null
  readonly stdout: string
  /** stdout, then stderr. */
  readonly output: string
}

export interface RunOptions {
  readonly env?: Record<string, string>
  /** Milliseconds; a command still running then is killed and fails. */
  readonly timeout?: number
}

export interface CheckOptions extends RunOptions {
  /** What else must hold of a command that exited 0 (a throw fails the check). @default nothing */
  readonly accept?: (result: RunResult) => boolean
}

/** Runs a command to completion, capturing its stdout, then its stderr. */
export const run = (command: string, args: ReadonlyArray<string>, cwd: string, options: RunOptions = {}): RunResult => {
  const result = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    timeout: options.timeout ?? 600_000,
    maxBuffer: 64 * 1024 * 1024
  })
  const timedOut = result.error !== undefined ? `\n(${result.error.message})` : ""
  return {
    ok: result.status === 0,
    status: result.status,
    stdout: result.stdout ?? "",
    output: `${result.stdout ?? ""}${result.stderr ?? ""}${timedOut}`
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`

export interface Checks {
  /** Counts one check; prints it with its duration when given. Returns `ok`. */
  readonly record: (label: string, ok: boolean, detail: string, durationMs?: number) => boolean
  /**
   * Runs a command as one check: passes when it exits 0 and `accept` holds; on failure prints the
   * command and its output. Returns the run, its `ok` the check's verdict.
   */
  readonly check: (
    label: string,
    command: string,
    args: ReadonlyArray<string>,
    cwd: string,
    options?: CheckOptions
  ) => RunResult
  /** Times setup work that is not itself a check, printing its duration (a promise: when it settles). */
  readonly time: <A>(label: string, f: () => A) => A
  /** Prints the problems and "N passed, N failed", writes the report, and exits (1 on any failure). */
  readonly finish: (reportFile: string | undefined) => never
}

export const makeChecks = (): Checks => {
  let passed = 0
  let failed = 0
  const problems: Array<string> = []

  const record = (label: string, ok: boolean, detail: string, durationMs?: number) => {
    const took = durationMs === undefined ? "" : ` (${seconds(durationMs)})`
    if (ok) {
      passed++
      console.log(`ok    ${label}${took}`)
    } else {
      failed++
      problems.push(label)
      console.log(`FAIL  ${label}${took}: ${detail}`)
    }
    return ok
  }

  const check = (
    label: string,
    command: string,
    args: ReadonlyArray<string>,
    cwd: string,
    options: CheckOptions = {}
  ): RunResult => {
    const started = Date.now()
    const result = run(command, args, cwd, options)
    let accepted = result.ok
    try {
      accepted &&= options.accept?.(result) ?? true
    } catch {
      accepted = false
    }
    const detail = `${command} ${args.join(" ")}\n${result.output.trim()}`
    return { ...result, ok: record(label, accepted, detail, Date.now() - started) }
  }

  const time = <A>(label: string, f: () => A): A => {
    const started = Date.now()
    const done = () => console.log(`      ${label} (${seconds(Date.now() - started)})`)
    const result = f()
    if (result instanceof Promise) return result.finally(done) as A
    done()
    return result
  }

  const finish = (reportFile: string | undefined): never => {
    if (reportFile !== undefined) writeFileSync(reportFile, JSON.stringify({ passed, failed, problems }))
    if (problems.length > 0) console.log(`\nProblems:\n- ${problems.join("\n- ")}`)
    console.log(`\n${passed} passed, ${failed} failed`)
    process.exit(failed === 0 ? 0 : 1)
  }

  return { record, check, time, finish }
}

/** The value after `flag` in the command line, if the flag is there. */
export const flagValue = (flag: string): string | undefined => {
  const index = process.argv.indexOf(flag)
  return index === -1 ? undefined : process.argv[index + 1]
}
