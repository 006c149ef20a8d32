/**
 * Memory of the real runner process (`node apps/runner/src/main.ts run`), read from
 * /proc/PID/status (Linux): its RSS once idle after start, on embedded PGlite (a new data directory,
 * then the same one again) and on PostgreSQL (a new database), and its peak RSS while it drains
 * `events` pending outbox rows to a webhook receiver in this process.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, type Layer } from "effect"
import { SqlClient } from "effect/sql"
import postgres from "postgres"
import { migrate, Pglite, PostgresJs } from "../src/index.ts"
import { databaseUrl, PREFILL, sleep } from "./harness.ts"

const main = new URL("../../../apps/runner/src/main.ts", import.meta.url).pathname
const schema = "bench"
// Seconds after "sluice is running" before idle RSS is read: V8 shrinks its heap a few seconds
// after start (measured: an embedded runner at 243 MB 15 s after start, 210 MB from 17 s on).
const settleMs = Number(process.env.BENCH_RSS_SETTLE ?? 30) * 1000

export type Store = "embedded" | "postgres"

/** VmRSS of `pid`, in MB. */
const rssOf = (pid: number) => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN) / 1024
}

/** A webhook receiver answering 200, counting distinct events (`webhook-id`) in `seen`. */
const startReceiver = async () => {
  const seen = new Set<string>()
  const server = createServer((req, res) => {
    req.resume()
    req.on("end", () => {
      seen.add(String(req.headers["webhook-id"]))
      res.writeHead(200, { "content-type": "application/json" }).end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, seen, close }
}

/** A runner config: every event to the webhook at `url`, admin on a free port, no sources. */
const writeConfig = (dir: string, store: Store, url: string) => {
  const file = join(dir, "sluice.json")
  const secret = `whsec_${Buffer.from("sluice-bench-signing-key-0123456789").toString("base64")}`
  writeFileSync(
    file,
    JSON.stringify({
      store:
        store === "embedded"
          ? { driver: "embedded", dataDir: join(dir, "data"), schema }
          : { driver: "postgres", schema },
      transports: [{ name: "hook", plugin: "http", options: { url, secrets: [secret] } }],
      routes: [{ name: "bench", transport: "hook", topic: "quotes", match: ["**"] }],
      admin: { port: 0 }
    })
  )
  return file
}

/** Starts the runner; resolves once it logs that it is running. */
const startRunner = async (config: string, env: NodeJS.ProcessEnv) => {
  const child = spawn(process.execPath, [main, "run", "--config", config], {
    env,
    stdio: ["ignore", "ignore", "pipe"]
  })
  let stderr = ""
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
  const deadline = performance.now() + 180_000
  while (!stderr.includes("sluice is running")) {
    if (child.exitCode !== null || performance.now() > deadline)
      throw new Error(`the runner did not start (exit ${child.exitCode}):\n${stderr}`)
    await sleep(50)
  }
  return child
}

const stopRunner = async (child: ChildProcess) => {
  const exited = new Promise((resolve) => child.once("exit", resolve))
  child.kill("SIGTERM")
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000)
  await exited
  clearTimeout(timer)
}

/** A fresh PostgreSQL database for one run (dropped by `drop`), and its URL. */
const freshDatabase = async () => {
  const name = `bench_rss_${process.pid}_${Date.now()}`
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`CREATE DATABASE ${name}`)
  const url = new URL(databaseUrl)
  url.pathname = `/${name}`
  return {
    url: url.href,
    drop: async () => {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      await admin.end()
    }
  }
}

/** Where one run keeps its files and database, and the runner's environment for it. */
const workspace = async (store: Store) => {
  const dir = mkdtempSync(join(tmpdir(), "sluice-bench-rss-"))
  const { DATABASE_URL: _, ...env } = process.env
  const database = store === "postgres" ? await freshDatabase() : undefined
  return {
    dir,
    database,
    env: database === undefined ? env : { ...env, DATABASE_URL: database.url },
    cleanup: async () => {
      await database?.drop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Idle RSS in MB: read `settleMs` after the runner says it is running. */
const idleOnce = async (config: string, env: NodeJS.ProcessEnv) => {
  const child = await startRunner(config, env)
  await sleep(settleMs)
  const rss = rssOf(child.pid!)
  await stopRunner(child)
  return rss
}

/**
 * Idle RSS (MB) of a runner with nothing to do. Embedded: first on a new data directory, then
 * restarted on the same one (`existing`).
 */
export const idleRss = async (store: Store) => {
  const { dir, env, cleanup } = await workspace(store)
  try {
    const receiver = await startReceiver()
    const config = writeConfig(dir, store, receiver.url)
    const fresh = await idleOnce(config, env)
    const existing = store === "embedded" ? await idleOnce(config, env) : undefined
    await receiver.close()
    return { fresh, existing }
  } finally {
    await cleanup()
  }
}

/** Migrates the store's schema and adds `events` pending outbox rows of route "bench". */
const prefill = (client: Layer.Layer<SqlClient.SqlClient, unknown>, events: number) =>
  Effect.runPromise(
    Effect.gen(function* () {
      yield* migrate({ schema })
      const sql = yield* SqlClient.SqlClient
      yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* sql.unsafe(`SET LOCAL search_path TO ${schema}`)
          yield* sql.unsafe(PREFILL, [events])
        })
      )
    }).pipe(Effect.provide(client))
  )

/**
 * Peak RSS (MB) of a runner started on `events` pending rows, sampled every 100 ms from when it is
 * running until the receiver has every event.
 */
export const drainRss = async (store: Store, events: number) => {
  const { dir, env, database, cleanup } = await workspace(store)
  try {
    const receiver = await startReceiver()
    const config = writeConfig(dir, store, receiver.url)
    await prefill(
      database === undefined
        ? Pglite.layer({ dataDir: join(dir, "data") })
        : PostgresJs.layer({ url: database.url, poolSize: 1 }),
      events
    )
    const child = await startRunner(config, env)
    const started = performance.now()
    let peak = 0
    const deadline = performance.now() + 600_000
    while (receiver.seen.size < events) {
      if (child.exitCode !== null || performance.now() > deadline)
        throw new Error(`the drain stopped: ${receiver.seen.size} of ${events} events arrived`)
      peak = Math.max(peak, rssOf(child.pid!))
      await sleep(100)
    }
    const seconds = (performance.now() - started) / 1000
    peak = Math.max(peak, rssOf(child.pid!))
    await stopRunner(child)
    await receiver.close()
    console.error(
      `    ${store}: ${events} events delivered in ${seconds.toFixed(1)} s, peak RSS ${Math.round(peak)} MB`
    )
    return { peak }
  } finally {
    await cleanup()
  }
}
