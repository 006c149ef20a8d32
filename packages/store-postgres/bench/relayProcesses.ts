/**
 * The relay drain in several processes sharing one database, as several `sluice run` processes (or
 * graphile-worker's worker processes) would: each a relayProcess.ts child at the runner's relay
 * defaults, forked and connected before the clock starts. The clock runs from "go" until the
 * children's transports have seen every row (as drainAtRunnerDefaults times one process); then they
 * stop gracefully and the database must hold every row delivered, each seen exactly once.
 */
import { type ChildProcess, fork } from "node:child_process"
import { once } from "node:events"
import postgres from "postgres"
import { databaseUrl, sleep } from "./harness.ts"
import { prefill, runnerRelayDefaults, withSchema } from "./scenarios.ts"

/** What one relay process runs (passed to relayProcess.ts as JSON). */
export interface RelayProcess {
  readonly url: string
  readonly schema: string
  readonly workers: number
}
export type ToRelayProcess = { readonly type: "go" } | { readonly type: "stop" }
export type RelayProcessMessage =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly seen: number }
  | { readonly type: "stopped"; readonly seen: number }

/** The next message of `type` from `child`; fails if the child exits first. */
const message = <T extends RelayProcessMessage["type"]>(child: ChildProcess, type: T) =>
  new Promise<Extract<RelayProcessMessage, { type: T }>>((resolve, reject) => {
    const onMessage = (m: RelayProcessMessage) => {
      if (m.type !== type) return
      off()
      resolve(m as Extract<RelayProcessMessage, { type: T }>)
    }
    const onExit = (code: number | null) => {
      off()
      reject(new Error(`relay process exited (${code}) before "${type}"`))
    }
    const off = () => {
      child.off("message", onMessage)
      child.off("exit", onExit)
    }
    child.on("message", onMessage)
    child.on("exit", onExit)
  })

// A drain that has not finished by then has failed.
const TIMEOUT_MS = 10 * 60_000

/**
 * Rows per second draining `rows` prefilled rows with `processes` relay processes, each with
 * `workers` workers (the runner's default unless given) and the runner's other relay defaults.
 */
export const drainInProcesses = (processes: number, rows: number, workers: number = runnerRelayDefaults.workers) =>
  withSchema("postgres", "drain_processes", async (schema) => {
    await prefill("postgres", schema, rows)
    const children: Array<ChildProcess> = []
    try {
      const config: RelayProcess = { url: databaseUrl, schema, workers }
      for (let i = 0; i < processes; i++)
        children.push(
          fork(new URL("./relayProcess.ts", import.meta.url), [], {
            env: { ...process.env, RELAY_PROCESS: JSON.stringify(config) },
            stdio: ["ignore", "ignore", "inherit", "ipc"]
          })
        )
      await Promise.all(children.map((child) => message(child, "ready")))
      const seen = new Map<ChildProcess, number>()
      let done: (() => void) | undefined
      const all = new Promise<void>((resolve) => {
        done = resolve
      })
      const total = () => [...seen.values()].reduce((a, b) => a + b, 0)
      for (const child of children)
        child.on("message", (m: RelayProcessMessage) => {
          if (m.type !== "progress") return
          seen.set(child, m.seen)
          if (total() >= rows) done?.()
        })
      const start = performance.now()
      for (const child of children) child.send({ type: "go" } satisfies ToRelayProcess)
      const timedOut = await Promise.race([all.then(() => false), sleep(TIMEOUT_MS).then(() => true)])
      const seconds = (performance.now() - start) / 1000
      if (timedOut) throw new Error(`${processes} relay processes saw ${total()} of ${rows} rows`)
      const stopped = children.map((child) => message(child, "stopped"))
      for (const child of children) child.send({ type: "stop" } satisfies ToRelayProcess)
      const published = (await Promise.all(stopped)).reduce((a, m) => a + m.seen, 0)
      await Promise.all(children.map((child) => (child.exitCode === null ? once(child, "exit") : undefined)))
      const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connection: { search_path: schema } })
      const n = (await sql<Array<{ n: number }>>`SELECT count(*)::int AS n FROM outbox WHERE status = 'delivered'`)[0]!
        .n
      await sql.end()
      if (published !== rows || n !== rows)
        throw new Error(`${processes} relay processes published ${published} rows, ${n} of ${rows} delivered`)
      return rows / seconds
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill()
    }
  })
