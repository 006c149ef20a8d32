/**
 * Sluice's relay against peer job queues on the same PostgreSQL: graphile-worker and pg-boss
 * (bench-only dev dependencies) drain the same number of jobs with a no-op handler, at tuned
 * settings and at their defaults. Each run gets a fresh schema, filled in bulk before the clock
 * starts (like the relay's prefill); the clock runs from "go" to the workers' processes
 * (peerWorker.ts, spawned and connected beforehand) until the database holds every job completed,
 * and the handlers' count must equal the database's (nothing lost, nothing run twice).
 */
import { type ChildProcess, fork } from "node:child_process"
import { once } from "node:events"
import { readFileSync } from "node:fs"
import { Logger, makeWorkerUtils } from "graphile-worker"
import { PgBoss, type WorkOptions } from "pg-boss"
import postgres from "postgres"

const databaseUrl: string = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test"
let counter = 0
const schemaName = (name: string): string => `bench_${name}_${process.pid}_${++counter}`
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export type PeerName = "graphile-worker" | "pg-boss"

/** What one peer worker process runs (passed to peerWorker.ts as JSON). */
export type PeerWorker = { readonly url: string; readonly schema: string } & (
  | { readonly peer: "graphile-worker"; readonly worker: GraphileConfig.WorkerOptions }
  | { readonly peer: "pg-boss"; readonly work: WorkOptions }
)
export type ToWorker = { readonly type: "go" } | { readonly type: "stop" }
export type ToParent =
  | { readonly type: "ready" }
  | { readonly type: "progress"; readonly handled: number }
  | { readonly type: "stopped"; readonly handled: number }

type Options =
  | { readonly peer: "graphile-worker"; readonly worker: GraphileConfig.WorkerOptions }
  | { readonly peer: "pg-boss"; readonly work: WorkOptions }

export interface PeerSetup {
  /** How the row names the settings. */
  readonly settings: string
  readonly processes: number
  readonly options: Options
  /**
   * Stop the clock after this many seconds even if jobs remain, and count the jobs completed by
   * then: for defaults too slow to drain the queue in a bench's time (graphile-worker's: one job at
   * a time, measured ~900/s; pg-boss's: one job per 2 s poll).
   */
  readonly windowSeconds?: number
}

const dependencies = (
  JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8")) as {
    dependencies: Record<string, string>
  }
).dependencies
/** The peer and its version as package.json pins it, e.g. "graphile-worker 0.18.0". */
export const peerLabel = (peer: PeerName) => `${peer} ${dependencies[peer]}`

/** The rows: each peer tuned (the best found on the 2-core machine, see the README) and at its defaults. */
export const peerSetups: ReadonlyArray<PeerSetup> = [
  {
    settings: "2 processes, concurrentJobs 8, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0",
    processes: 2,
    options: {
      peer: "graphile-worker",
      worker: { concurrentJobs: 8, localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 }
    }
  },
  {
    settings: "defaults, 1 process",
    processes: 1,
    options: { peer: "graphile-worker", worker: {} },
    windowSeconds: 10
  },
  {
    settings: "1 process, batchSize 1000, localConcurrency 2, burstWhenBatchFull",
    processes: 1,
    options: { peer: "pg-boss", work: { batchSize: 1000, localConcurrency: 2, burstWhenBatchFull: true } }
  },
  { settings: "defaults, 1 process", processes: 1, options: { peer: "pg-boss", work: {} }, windowSeconds: 10 }
]

const quiet = new Logger(() => () => {})
const CHUNK = 10_000

/** Creates the peer's schema and enqueues `jobs` jobs (not timed). */
const fill = async (peer: PeerName, sql: postgres.Sql, schema: string, jobs: number) => {
  const chunks = Array.from({ length: Math.ceil(jobs / CHUNK) }, (_, c) =>
    Array.from({ length: Math.min(CHUNK, jobs - c * CHUNK) }, (_, i) => c * CHUNK + i)
  )
  if (peer === "graphile-worker") {
    const utils = await makeWorkerUtils({ connectionString: databaseUrl, schema, logger: quiet })
    await utils.migrate()
    for (const chunk of chunks) await utils.addJobs(chunk.map((n) => ({ identifier: "bench", payload: { n } })))
    await utils.release()
    await sql.unsafe(`VACUUM ANALYZE ${schema}._private_jobs`)
  } else {
    const boss = new PgBoss({ connectionString: databaseUrl, schema, supervise: false, schedule: false })
    await boss.start()
    await boss.createQueue("bench")
    for (const chunk of chunks)
      await boss.insert(
        "bench",
        chunk.map((n) => ({ data: { n } }))
      )
    await boss.stop()
    await sql.unsafe(`VACUUM ANALYZE ${schema}.job`)
  }
}

const count = async (sql: postgres.Sql, text: string) => (await sql.unsafe<Array<{ n: number }>>(text))[0]!.n

/** Jobs in `schema` not yet completed (graphile-worker deletes completed jobs; pg-boss marks them). */
const remaining = (peer: PeerName, sql: postgres.Sql, schema: string) =>
  count(
    sql,
    peer === "graphile-worker"
      ? `SELECT count(*)::int AS n FROM ${schema}._private_jobs`
      : `SELECT count(*)::int AS n FROM ${schema}.job WHERE state <> 'completed'`
  )

/** Jobs a worker took and did not complete. */
const taken = (peer: PeerName, sql: postgres.Sql, schema: string) =>
  count(
    sql,
    peer === "graphile-worker"
      ? `SELECT count(*)::int AS n FROM ${schema}._private_jobs WHERE locked_at IS NOT NULL`
      : `SELECT count(*)::int AS n FROM ${schema}.job WHERE state = 'active'`
  )

/** The next message of `type` from `child`; fails if the child exits first. */
const message = <T extends ToParent["type"]>(child: ChildProcess, type: T) =>
  new Promise<Extract<ToParent, { type: T }>>((resolve, reject) => {
    const onMessage = (m: ToParent) => {
      if (m.type !== type) return
      off()
      resolve(m as Extract<ToParent, { type: T }>)
    }
    const onExit = (code: number | null) => {
      off()
      reject(new Error(`peer worker exited (${code}) before "${type}"`))
    }
    const off = () => {
      child.off("message", onMessage)
      child.off("exit", onExit)
    }
    child.on("message", onMessage)
    child.on("exit", onExit)
  })

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : once(child, "exit")

// A drain that has not finished by then has failed.
const TIMEOUT_MS = 10 * 60_000

/** Jobs per second that `setup` drains out of `jobs` enqueued jobs. */
export const peerDrain = async (setup: PeerSetup, jobs: number): Promise<number> => {
  const { peer } = setup.options
  const schema = schemaName(peer === "graphile-worker" ? "graphile" : "pgboss")
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  const children: Array<ChildProcess> = []
  try {
    await fill(peer, sql, schema, jobs)
    const config: PeerWorker = { url: databaseUrl, schema, ...setup.options }
    for (let i = 0; i < setup.processes; i++)
      children.push(
        fork(new URL("./peerWorker.ts", import.meta.url), [], {
          env: { ...process.env, PEER_WORKER: JSON.stringify(config) },
          stdio: ["ignore", "ignore", "inherit", "ipc"]
        })
      )
    await Promise.all(children.map((child) => message(child, "ready")))
    const handled = new Map<ChildProcess, number>()
    for (const child of children)
      child.on("message", (m: ToParent) => {
        if (m.type === "progress") handled.set(child, m.handled)
      })
    const total = () => [...handled.values()].reduce((a, b) => a + b, 0)
    const start = performance.now()
    const deadline = start + (setup.windowSeconds === undefined ? TIMEOUT_MS : setup.windowSeconds * 1000)
    for (const child of children) child.send({ type: "go" } satisfies ToWorker)
    // The handlers' count first (no load on the database), then the database's word for it.
    while (total() < jobs && performance.now() < deadline) await sleep(5)
    let left = await remaining(peer, sql, schema)
    while (left > 0 && performance.now() < deadline) {
      await sleep(5)
      left = await remaining(peer, sql, schema)
    }
    const seconds = (performance.now() - start) / 1000
    if (left > 0 && setup.windowSeconds === undefined)
      throw new Error(`${peer} left ${left} of ${jobs} jobs after ${seconds.toFixed(0)} s`)
    const stopped = children.map((child) => message(child, "stopped"))
    for (const child of children) child.send({ type: "stop" } satisfies ToWorker)
    const ran = (await Promise.all(stopped)).reduce((a, m) => a + m.handled, 0)
    await Promise.race([Promise.all(children.map(exited)), sleep(5000)])
    const completed = jobs - (await remaining(peer, sql, schema))
    // Every completed job ran once. A window's stop can leave a job that ran uncompleted and
    // locked, to run again when its lock expires (seen with graphile-worker's defaults): allowed
    // there, for the jobs still taken.
    const inFlight = setup.windowSeconds === undefined ? 0 : await taken(peer, sql, schema)
    if (ran < completed || ran > completed + inFlight)
      throw new Error(`${peer}: handlers ran ${ran} jobs, the database completed ${completed} (${inFlight} taken)`)
    return (jobs - left) / seconds
  } finally {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill()
    await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
    await sql.end()
  }
}
