/**
 * Push ingest: `@sluice/source-http`'s handler over the PostgreSQL store (on Node or Deno) against the raw reference
 * (pushServer.ts, each in a child process of its own), loaded by autocannon over keep-alive
 * connections on loopback: 1 event (~600-byte body) per request, each a distinct webhook-id, signed
 * (Standard Webhooks) or not. A warm-up, then a timed load; afterwards every 2xx answer's event must
 * be stored, with one raw payload and one outbox row per event, and nothing beyond what was sent.
 */
import { spawn } from "node:child_process"
import { createHmac } from "node:crypto"
import { existsSync } from "node:fs"
import autocannon from "autocannon"
import postgres from "postgres"
import { databaseUrl } from "./harness.ts"
import { pushPath, pushSecret } from "./pushServer.ts"
import { withSchema } from "./scenarios.ts"

export interface PushLoad {
  /** Where Sluice's handler runs (the reference is always the node:http server). */
  readonly runtime: "node" | "deno"
  readonly connections: number
  readonly signed: boolean
  readonly warmupSeconds: number
  readonly seconds: number
}
export interface PushRun {
  /** Requests answered 2xx per second of the timed load. */
  readonly rate: number
  readonly p99: number
}

const key = Buffer.from(pushSecret.slice("whsec_".length), "base64")
const note = "x".repeat(420)
let delivery = 0

/** A fresh ~600-byte event draft and its headers: a new webhook-id every time, so none is a redelivery. */
const nextRequest = (signed: boolean) => {
  const id = `msg_${process.pid}_${++delivery}`
  const n = delivery
  const body = JSON.stringify({
    event_type: "quote.updated",
    entity_type: "quote",
    entity_id: `SYM${n % 500}`,
    payload: { symbol: `SYM${n % 500}`, price: 100 + (n % 97) / 10, volume: n, note }
  })
  const timestamp = String(Math.floor(Date.now() / 1000))
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": timestamp
  }
  if (signed)
    headers["webhook-signature"] =
      `v1,${createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")}`
  return { body, headers }
}

// The repository's pinned Deno (bin/setup installs it), else one on the PATH.
const pinnedDeno = new URL("../../../.tools/node_modules/.bin/deno", import.meta.url).pathname
const deno = existsSync(pinnedDeno) ? pinnedDeno : "deno"

const startServer = (side: "sluice" | "raw", runtime: PushLoad["runtime"], schema: string, signed: boolean) =>
  new Promise<{ readonly port: number; readonly stop: () => void }>((resolve, reject) => {
    const script = new URL("./pushServer.ts", import.meta.url).pathname
    const [command, args] =
      side === "sluice" && runtime === "deno" ? [deno, ["run", "-A", script]] : [process.execPath, [script]]
    const child = spawn(command, args, {
      cwd: new URL("..", import.meta.url).pathname,
      env: { ...process.env, PUSH_SIDE: side, PUSH_SCHEMA: schema, PUSH_SIGNED: signed ? "1" : "0" },
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.on("error", reject)
    child.on("exit", (code) => reject(new Error(`push server exited (${code})`)))
    child.stdout!.setEncoding("utf8").once("data", (line: string) => {
      const port = Number(/PORT (\d+)/.exec(line)?.[1])
      if (Number.isNaN(port)) reject(new Error(`push server said: ${line}`))
      else resolve({ port, stop: () => child.kill() })
    })
  })

const load = (port: number, connections: number, seconds: number, signed: boolean, eventIds: Array<string>) =>
  autocannon({
    url: `http://127.0.0.1:${port}${pushPath}`,
    connections,
    pipelining: 1,
    duration: seconds,
    method: "POST",
    requests: [
      {
        setupRequest: (request) => ({ ...request, ...nextRequest(signed) }),
        onResponse: (status, body) => {
          if (status === 200) eventIds.push(...(JSON.parse(body) as { event_ids: Array<string> }).event_ids)
        }
      }
    ]
  })

/** Counts what `schema` holds and checks it against the answers. */
const verify = async (schema: string, eventIds: ReadonlyArray<string>, sent: number) => {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} })
  try {
    const [counts] = await sql.unsafe(
      `SELECT (SELECT count(*) FROM ${schema}.raw_payloads)::int AS raws, (SELECT count(*) FROM ${schema}.events)::int AS events,
              (SELECT count(*) FROM ${schema}.outbox)::int AS outbox,
              (SELECT count(*) FROM ${schema}.events WHERE event_id = ANY($1::uuid[]))::int AS answered`,
      [eventIds as Array<string>]
    )
    const { raws, events, outbox, answered } = counts as unknown as {
      raws: number
      events: number
      outbox: number
      answered: number
    }
    if (answered !== eventIds.length || new Set(eventIds).size !== eventIds.length)
      throw new Error(`push: ${eventIds.length} answered 2xx, ${answered} of their events stored`)
    // Beyond the answered ones, only requests in flight when a load stopped may be stored.
    if (raws !== events || events !== outbox || events < eventIds.length || events > sent)
      throw new Error(
        `push: ${raws} raw payloads, ${events} events, ${outbox} outbox rows for ${eventIds.length} answers`
      )
  } finally {
    await sql.end()
  }
}

/** One run: a fresh schema and server, a warm-up, the timed load, the check. */
export const push = (side: "sluice" | "raw", pushLoad: PushLoad): Promise<PushRun> =>
  withSchema("postgres", "push", async (schema) => {
    const server = await startServer(side, pushLoad.runtime, schema, pushLoad.signed)
    try {
      const eventIds: Array<string> = []
      const first = delivery
      const warm = await load(server.port, pushLoad.connections, pushLoad.warmupSeconds, pushLoad.signed, eventIds)
      const result = await load(server.port, pushLoad.connections, pushLoad.seconds, pushLoad.signed, eventIds)
      const failed = warm.non2xx + warm.errors + result.non2xx + result.errors
      if (failed > 0) throw new Error(`push ${side}: ${failed} requests failed or were refused`)
      await verify(schema, eventIds, delivery - first)
      return { rate: result["2xx"] / pushLoad.seconds, p99: result.latency.p99 }
    } finally {
      server.stop()
    }
  })
