/**
 * Chaos harness: a PRIVATE PostgreSQL cluster per scenario (initdb into a temporary directory, its
 * own port and socket directory), so scenarios may restart it and terminate its backends without
 * touching the shared server other tests use. Runs the server as the `postgres` OS user when the
 * harness runs as root (initdb refuses root).
 */
import { execFile, execFileSync } from "node:child_process"
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { PostgresJs } from "@sluice/store-postgres"
import { Effect } from "effect"
import { SqlClient } from "effect/sql"

const exec = promisify(execFile)

/** A port nobody listens on right now (the OS picks it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

export interface PrivatePg {
  readonly url: string
  readonly port: number
  /** Runs one statement on a short-lived connection (application_name `chaos-harness`). */
  readonly query: <A extends object = Record<string, unknown>>(text: string) => Promise<ReadonlyArray<A>>
  /**
   * `pg_ctl restart -m <mode>`: every connection is cut, the data stays. When a fast shutdown does
   * not finish within 15 s it is completed as an immediate one (a crash); resolves to the mode used.
   */
  readonly restart: (mode?: "fast" | "immediate") => Promise<"fast" | "immediate">
  /** Stops the server and removes its directory. */
  readonly destroy: () => Promise<void>
}

const asRoot = typeof process.getuid === "function" && process.getuid() === 0

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
const pgBin = (command: string, args: ReadonlyArray<string>) =>
  asRoot ? exec("runuser", ["-u", "postgres", "--", command, ...args]) : exec(command, [...args])

/** Starts a fresh cluster (fsync off: durability across OS crashes is not what these tests are about). */
export const startPrivatePg = async (): Promise<PrivatePg> => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-chaos-pg-"))
  const data = join(dir, "data")
  const socket = join(dir, "sock")
  mkdirSync(socket)
  if (asRoot) {
    const { stdout } = await exec("id", ["-u", "postgres"])
    const uid = Number(stdout.trim())
    const { stdout: gid } = await exec("id", ["-g", "postgres"])
    chownSync(dir, uid, Number(gid.trim()))
    chownSync(socket, uid, Number(gid.trim()))
  }
  chmodSync(dir, 0o755)
  await pgBin("initdb", ["-D", data, "-A", "trust", "-U", "postgres", "-N", "--no-instructions"])
  const ctl = (...args: Array<string>) => pgBin("pg_ctl", ["-D", data, "-w", "-t", "30", ...args])
  const optionsFor = (port: number) =>
    `-p ${port} -k ${socket} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`
  // PostgreSQL cannot listen on port 0 and say which port it got: the port comes from freePort,
  // and another process may take it before the server binds it. Then another port is tried.
  let port = 0
  for (let attempt = 1; port === 0; attempt++) {
    const candidate = await freePort()
    const started = await ctl("-o", optionsFor(candidate), "-l", join(dir, "log"), "start").then(
      () => true,
      (error: unknown) => {
        if (attempt >= 5) throw error
        return false
      }
    )
    if (started) port = candidate
  }
  const options = optionsFor(port)
  // If this process dies before `destroy` (a crash), the cluster must not outlive it.
  const onExit = () => {
    try {
      const args = ["-D", data, "-m", "immediate", "stop"]
      if (asRoot) execFileSync("runuser", ["-u", "postgres", "--", "pg_ctl", ...args], { stdio: "ignore" })
      else execFileSync("pg_ctl", args, { stdio: "ignore" })
    } catch {
      // already stopped
    }
    rmSync(dir, { recursive: true, force: true })
  }
  process.once("exit", onExit)
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const query = <A extends object>(text: string) =>
    Effect.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        return (yield* sql.unsafe(text)) as unknown as ReadonlyArray<A>
      }).pipe(Effect.provide(PostgresJs.layer({ url, poolSize: 1, applicationName: "chaos-harness" })))
    )
  return {
    url,
    port,
    query,
    restart: async (mode = "fast") => {
      const log = join(dir, "log")
      const fast = await pgBin("pg_ctl", [
        "-D",
        data,
        "-w",
        "-t",
        "15",
        "-m",
        mode,
        "-o",
        options,
        "-l",
        log,
        "restart"
      ]).then(
        () => true,
        () => false
      )
      if (fast) return mode
      await ctl("-m", "immediate", "stop").catch(() => undefined)
      await ctl("-o", options, "-l", log, "start")
      return "immediate"
    },
    destroy: async () => {
      process.removeListener("exit", onExit)
      await ctl("-m", "immediate", "stop").catch(() => undefined)
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
