/**
 * The embedded data directory's lock: the holder record, refusal of a live holder (naming the
 * directory, pid, command, and the admin URL to ask instead), takeover of a holder that is gone,
 * release, and one winner when several processes race for a stale lock.
 */
import { spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Logger, Scope } from "effect"
import { acquire, type Holder, LOCK_FILE } from "../src/DataDirLock.ts"
import { removeTempDirs, tempDir } from "./support/config.ts"
import { eventually } from "./support/sluice.ts"

afterAll(removeTempDirs)

const readHolder = (dir: string) => JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")) as Holder

const writeHolder = (dir: string, holder: Partial<Holder>) =>
  writeFileSync(
    join(dir, LOCK_FILE),
    JSON.stringify({
      pid: process.ppid,
      hostname: hostname(),
      command: "sluice run",
      started_at: "2026-01-01T00:00:00.000Z",
      token: "another",
      ...holder
    })
  )

/** A pid that belonged to a process which has exited. */
const deadPid = (): number => {
  const child = spawnSync(process.execPath, ["-e", ""])
  return child.pid
}

/** Runs `effect` collecting its log lines (message, then annotations as JSON). */
const withLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) => {
  const lines: Array<string> = []
  const logger = Logger.make(({ message }) => {
    lines.push(
      (Array.isArray(message) ? message : [message])
        .map((m) => (typeof m === "string" ? m : JSON.stringify(m)))
        .join(" ")
    )
  })
  return effect.pipe(
    Effect.provide(Logger.layer([logger])),
    Effect.map((a) => [a, lines] as const)
  )
}

describe("DataDirLock", () => {
  it.live("records the holder, then the admin URL, and removes the file on release", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      const scope = yield* Scope.make()
      const lock = yield* acquire(dir, { command: "sluice run" }).pipe(Scope.provide(scope))
      const holder = readHolder(dir)
      assert.strictEqual(holder.pid, process.pid)
      assert.strictEqual(holder.hostname, hostname())
      assert.strictEqual(holder.command, "sluice run")
      assert.match(holder.started_at, /^\d{4}-\d\d-\d\dT/)
      assert.isUndefined(holder.admin_url)
      yield* lock.recordAdminUrl("http://127.0.0.1:9464")
      assert.strictEqual(readHolder(dir).admin_url, "http://127.0.0.1:9464")
      assert.strictEqual(readHolder(dir).token, holder.token)
      yield* Scope.close(scope, Exit.void)
      assert.isFalse(existsSync(join(dir, LOCK_FILE)))
    })
  )

  it.live("a live holder is refused, naming the directory, its pid, command and admin URL; the file stays", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      writeHolder(dir, { admin_url: "http://127.0.0.1:9464" })
      const before = readFileSync(join(dir, LOCK_FILE), "utf8")
      const error = yield* Effect.flip(
        Effect.scoped(acquire(dir, { command: "sluice status", viaAdmin: "sluice status" }))
      )
      assert.strictEqual(error._tag, "DataDirLockedError")
      assert.strictEqual(
        error.message,
        `${dir} is in use by pid ${process.ppid} (sluice run, since 2026-01-01T00:00:00.000Z). Stop it first, or ask the running process: sluice status --admin http://127.0.0.1:9464`
      )
      // Without an admin URL (or for `run`, which cannot go through it) the hint is only to stop it.
      const forRun = yield* Effect.flip(Effect.scoped(acquire(dir, { command: "sluice run" })))
      assert.match(forRun.message, /Stop it first$/)
      assert.strictEqual(readFileSync(join(dir, LOCK_FILE), "utf8"), before)
    })
  )

  it.live("a holder on another host is refused, saying so and which file to delete if it is gone", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      writeHolder(dir, { hostname: "elsewhere.example", pid: deadPid() })
      const error = yield* Effect.flip(Effect.scoped(acquire(dir, { command: "sluice run" })))
      assert.include(error.message, "on host elsewhere.example")
      assert.include(error.message, `if it is gone, delete ${join(dir, LOCK_FILE)}`)
    })
  )

  it.live("a holder that is gone is taken over, with a warning naming it", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      const pid = deadPid()
      writeHolder(dir, { pid })
      const [holder, logs] = yield* withLogs(
        Effect.scoped(
          Effect.andThen(
            acquire(dir, { command: "sluice status" }),
            Effect.sync(() => readHolder(dir))
          )
        )
      )
      assert.strictEqual(holder.pid, process.pid)
      assert.strictEqual(holder.command, "sluice status")
      assert.deepStrictEqual(logs, [
        `taking over the data directory lock of a process that is gone {"dir":"${dir}","pid":${pid},"command":"sluice run","since":"2026-01-01T00:00:00.000Z"}`
      ])
      assert.isFalse(existsSync(join(dir, LOCK_FILE)))
    })
  )

  it.live("a lock of an earlier process with this pid (a container restart) or a reused pid is stale", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      writeHolder(dir, { pid: process.pid, token: "an earlier incarnation" })
      yield* Effect.scoped(acquire(dir, { command: "sluice run" }))
      // The parent process runs, but started at another time than the holder recorded (Linux /proc).
      writeHolder(dir, { pid: process.ppid, proc_start: "1" })
      yield* Effect.scoped(acquire(dir, { command: "sluice run" }))
    })
  )

  it.live("one process opening the directory twice is refused; after release it opens again", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      yield* Effect.scoped(
        Effect.gen(function* () {
          yield* acquire(dir, { command: "sluice migrate" })
          const twice = yield* Effect.flip(Effect.scoped(acquire(dir, { command: "sluice run" })))
          assert.include(twice.message, "already open in this process")
        })
      )
      // migrate then run in one process: the first released it.
      yield* Effect.scoped(acquire(dir, { command: "sluice run" }))
    })
  )

  it.live("release keeps a lock file that is no longer this process's", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      yield* Effect.scoped(
        Effect.andThen(
          acquire(dir, { command: "sluice run" }),
          Effect.sync(() => writeHolder(dir, { token: "someone else" }))
        )
      )
      assert.strictEqual(readHolder(dir).token, "someone else")
    })
  )

  it.live("a file that is not a lock is refused after a short wait, naming it", () =>
    Effect.gen(function* () {
      const dir = tempDir("sluice-lock-")
      writeFileSync(join(dir, LOCK_FILE), "not json")
      const error = yield* Effect.flip(Effect.scoped(acquire(dir, { command: "sluice run" })))
      assert.strictEqual(error._tag, "DataDirLockError")
      assert.include(error.message, `${join(dir, LOCK_FILE)} is not a lock file`)
    })
  )

  it.live(
    "processes racing for a stale lock: exactly one acquires it, the others are refused naming it",
    () =>
      Effect.gen(function* () {
        const dir = tempDir("sluice-lock-")
        writeHolder(dir, { pid: deadPid() })
        const script = new URL("./support/lock-holder.ts", import.meta.url).pathname
        const children = Array.from({ length: 6 }, () => spawn(process.execPath, [script, dir], { stdio: "pipe" }))
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            for (const child of children) child.kill("SIGKILL")
          })
        )
        const outputs = children.map((child) => {
          let out = ""
          child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
            out += chunk
          })
          return () => out.split("\n")
        })
        const answered = (i: number) => (outputs[i]!().length > 2 ? outputs[i]!()[1]! : undefined)
        yield* Effect.promise(() => eventually("every process ready", () => outputs.every((o) => o()[0] === "ready")))
        // All at once: each races the others from reading the stale lock to creating its own.
        for (const child of children) child.stdin.write("go\n")
        yield* Effect.promise(() =>
          eventually("every process answered", () => children.every((_, i) => answered(i) !== undefined))
        )
        const lines = children.map((_, i) => answered(i)!)
        assert.strictEqual(lines.filter((l) => l === "acquired").length, 1, lines.join("\n"))
        const winner = children[lines.indexOf("acquired")]!
        for (const line of lines.filter((l) => l !== "acquired")) {
          assert.include(line, `refused: ${dir} is in use by pid ${winner.pid} (lock-holder`)
        }
        assert.strictEqual(readHolder(dir).pid, winner.pid)
      }),
    60_000
  )
})
