/**
 * An exclusive lock on an embedded (PGlite) data directory. PGlite keeps the database of one
 * process: a second process opening the same directory destroys what the first one writes. Every
 * command that opens the embedded store takes this lock first, for the life of its scope.
 *
 * The lock is the file `sluice.lock` in the data directory, a JSON record of the holder (pid, host,
 * command, start time; the admin URL once `run` serves it). It is created complete and atomically
 * (a hard link from a temporary file; `wx` where the file system has no hard links), removed by the
 * scope's finalizer, and left behind by a SIGKILL: the next opener finds the holder's pid gone on
 * this host and takes the lock over. A holder on another host cannot be checked and is refused.
 *
 * It lives in the runner, not in the store package: it records the runner's command and admin URL
 * and needs the process and the host, which the store (run under Deno and edge runtimes too) leaves
 * to its caller.
 */
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import { Clock, Context, Data, DateTime, Effect, Result, Schema, type Scope } from "effect"

/** The lock file's name inside the data directory. */
export const LOCK_FILE = "sluice.lock"

const Holder = Schema.Struct({
  pid: Schema.Int,
  hostname: Schema.String,
  command: Schema.String,
  started_at: Schema.String,
  /** Tells two holders with the same pid apart (a pid reused after a crash, e.g. in a container). */
  token: Schema.String,
  /** Linux only: the process's start time in /proc, so that a pid reused by another program is seen as gone. */
  proc_start: Schema.optional(Schema.String),
  admin_url: Schema.optional(Schema.String)
})

/** What the lock file says about its holder. */
export type Holder = typeof Holder.Type

const decodeHolder = Schema.decodeUnknownResult(Schema.fromJsonString(Holder))

/** The data directory is held by a process that is (or may be) running. */
export class DataDirLockedError extends Data.TaggedError("DataDirLockedError")<{
  readonly dir: string
  readonly holder: Holder
  /** The holder runs on another host, so its pid cannot be checked. */
  readonly otherHost: boolean
  /** This process holds it already (opened twice). */
  readonly sameProcess: boolean
  /** A command to suggest that reaches the holder through its admin API, e.g. `sluice status`. */
  readonly viaAdmin?: string | undefined
}> {
  override get message() {
    const h = this.holder
    const where = this.otherHost ? ` on host ${h.hostname}` : ""
    const held = `${this.dir} is in use by pid ${h.pid}${where} (${h.command}, since ${h.started_at})`
    if (this.sameProcess) return `${held}: it is already open in this process`
    if (this.otherHost) {
      return `${held}. Sluice cannot tell whether a process on another host still runs: stop it there, or, if it is gone, delete ${join(this.dir, LOCK_FILE)}`
    }
    if (this.viaAdmin !== undefined && h.admin_url !== undefined) {
      return `${held}. Stop it first, or ask the running process: ${this.viaAdmin} --admin ${h.admin_url}`
    }
    return `${held}. Stop it first`
  }
}

/** The lock file could not be written or read (permissions, a full disk, a file that is not a lock). */
export class DataDirLockError extends Data.TaggedError("DataDirLockError")<{
  readonly dir: string
  readonly reason: string
}> {
  override get message() {
    return `cannot lock ${this.dir}: ${this.reason}`
  }
}

/** The lock held by this process. */
export class DataDirLock extends Context.Service<
  DataDirLock,
  {
    readonly dir: string
    /** Writes the admin URL into the lock file, for the refusal message of later openers. */
    readonly recordAdminUrl: (url: string) => Effect.Effect<void>
  }
>()("@sluice/runner/DataDirLock") {}

/** Options of `acquire`. */
export interface LockOptions {
  /** What holds the lock, as a user would type it (`sluice run`). */
  readonly command: string
  /** Suggested in the refusal when the holder serves an admin API (`sluice status`). */
  readonly viaAdmin?: string
}

// Tokens of the locks this process holds: a lock file with this process's pid and another token is
// the leftover of an earlier process that had the same pid.
const held = new Set<string>()

const codeOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : undefined

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error))

/** The state and start time of `pid` (Linux /proc, fields 3 and 22), or undefined without /proc. */
const procStat = (pid: number): { readonly state: string; readonly start: string } | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // The command name (field 2) is in parentheses and may contain spaces: count after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return { state: fields[0] ?? "", start: fields[19] ?? "" }
  } catch {
    return undefined
  }
}

/** Whether the holder still runs: `alive`, `gone`, or `unknown` on another host. */
const probe = (holder: Holder): "alive" | "gone" | "unknown" => {
  if (holder.hostname !== hostname()) return "unknown"
  if (holder.pid === process.pid) return held.has(holder.token) ? "alive" : "gone"
  try {
    process.kill(holder.pid, 0)
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if (codeOf(error) === "ESRCH") return "gone"
  }
  const stat = procStat(holder.pid)
  if (stat === undefined) return "alive"
  // A zombie (killed, not yet reaped) holds no files; another start time is another program.
  const reused = holder.proc_start !== undefined && stat.start !== holder.proc_start
  return stat.state === "Z" || stat.state === "X" || reused ? "gone" : "alive"
}

/** Creates the lock file with `text`, complete, unless it exists (false). */
const create = (path: string, text: string, token: string): boolean => {
  const temp = `${path}.${token}.tmp`
  writeFileSync(temp, text)
  try {
    linkSync(temp, path)
    return true
  } catch (error) {
    if (codeOf(error) === "EEXIST") return false
    // No hard links on this file system: exclusive create, written right after.
    try {
      writeFileSync(path, text, { flag: "wx" })
      return true
    } catch (second) {
      if (codeOf(second) === "EEXIST") return false
      throw second
    }
  } finally {
    unlinkSync(temp)
  }
}

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8")
  } catch (error) {
    if (codeOf(error) === "ENOENT") return undefined
    throw error
  }
}

/**
 * Removes the lock file if it still holds `stale`. Removals are serialized by a second lock file
 * (`sluice.lock.takeover`, held for a few statements): without it, an opener that judged the old
 * holder gone could remove the lock a faster opener had just created in its place.
 */
const removeStale = (path: string, stale: string, record: string, token: string): "removed" | "busy" | "changed" => {
  const mutex = `${path}.takeover`
  if (!create(mutex, record, token)) {
    // Another opener is taking over; its mutex outlives it only if it died in these few statements.
    const text = readText(mutex)
    const holder = text === undefined ? undefined : decodeHolder(text)
    if (holder !== undefined && Result.isSuccess(holder) && probe(holder.success) === "gone") {
      unlinkIfPresent(mutex)
    }
    return "busy"
  }
  try {
    if (readText(path) !== stale) return "changed"
    unlinkIfPresent(path)
    return "removed"
  } finally {
    unlinkIfPresent(mutex)
  }
}

const unlinkIfPresent = (path: string): void => {
  try {
    unlinkSync(path)
  } catch (error) {
    if (codeOf(error) !== "ENOENT") throw error
  }
}

const ATTEMPTS = 200
const UNREADABLE = 20

/**
 * Takes the lock on `dir` (which must exist) for the life of the scope, or fails naming the holder.
 * A lock left by a process that is gone (on this host) is taken over, with a warning.
 */
export const acquire = (
  dir: string,
  options: LockOptions
): Effect.Effect<DataDirLock["Service"], DataDirLockedError | DataDirLockError, Scope.Scope> =>
  Effect.gen(function* () {
    const path = join(dir, LOCK_FILE)
    const token = crypto.randomUUID()
    const startedAt = DateTime.formatIso(DateTime.makeUnsafe(yield* Clock.currentTimeMillis))
    const start = procStat(process.pid)?.start
    const record = (adminUrl?: string): string =>
      `${JSON.stringify({
        pid: process.pid,
        hostname: hostname(),
        command: options.command,
        started_at: startedAt,
        token,
        ...(start === undefined ? {} : { proc_start: start }),
        ...(adminUrl === undefined ? {} : { admin_url: adminUrl })
      } satisfies Holder)}\n`
    const io = <A>(what: string, f: () => A) =>
      Effect.try({ try: f, catch: (error) => new DataDirLockError({ dir, reason: `${what}: ${describe(error)}` }) })

    const take = Effect.gen(function* () {
      let unreadable = 0
      for (let attempt = 0; attempt < ATTEMPTS && unreadable < UNREADABLE; attempt++) {
        if (yield* io(`creating ${path}`, () => create(path, record(), token))) return
        const text = yield* io(`reading ${path}`, () => readText(path))
        if (text === undefined) continue
        const holder = decodeHolder(text)
        if (Result.isFailure(holder)) {
          // A holder that writes without hard links may not have written yet: look again shortly.
          unreadable++
          yield* Effect.sleep("100 millis")
          continue
        }
        const state = probe(holder.success)
        if (state !== "gone") {
          return yield* new DataDirLockedError({
            dir,
            holder: holder.success,
            otherHost: state === "unknown",
            sameProcess: holder.success.pid === process.pid,
            viaAdmin: options.viaAdmin
          })
        }
        const removed = yield* io(`removing the stale ${path}`, () => removeStale(path, text, record(), token))
        if (removed === "busy") yield* Effect.sleep("20 millis")
        if (removed === "removed") {
          yield* Effect.logWarning("taking over the data directory lock of a process that is gone", {
            dir,
            pid: holder.success.pid,
            command: holder.success.command,
            since: holder.success.started_at
          })
        }
      }
      const text = yield* io(`reading ${path}`, () => readText(path))
      return yield* new DataDirLockError({
        dir,
        reason:
          unreadable < UNREADABLE
            ? `${path} keeps changing hands; try again`
            : `${path} is not a lock file Sluice can read (${JSON.stringify(text?.slice(0, 80))}): if no sluice process uses ${dir}, delete it`
      })
    })

    yield* Effect.acquireRelease(
      Effect.andThen(
        take,
        Effect.sync(() => held.add(token))
      ),
      () =>
        Effect.sync(() => {
          held.delete(token)
          // Only our own file: after a takeover by someone else it is theirs.
          if (readText(path)?.includes(token) === true) unlinkIfPresent(path)
        }).pipe(
          Effect.catchDefect((error) => Effect.logWarning(`could not remove ${path}`, { error: describe(error) }))
        )
    )

    return DataDirLock.of({
      dir,
      recordAdminUrl: (url) =>
        Effect.sync(() => {
          if (readText(path)?.includes(token) !== true) return
          const temp = `${path}.${token}.tmp`
          writeFileSync(temp, record(url))
          renameSync(temp, path)
        }).pipe(
          Effect.catchDefect((error) => Effect.logWarning(`could not update ${path}`, { error: describe(error) }))
        )
    })
  })
