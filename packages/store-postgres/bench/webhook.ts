/**
 * Webhook delivery: Sluice's HTTP transport (`publish` driven directly, no relay) against a plain
 * node:http sender loop doing the same work (keep-alive Agent, the same ~600-byte JSON bodies, an
 * HMAC-SHA256 signature per request with node:crypto), at the same concurrency, in `single` and
 * `batch` mode. The receiver is a child process (webhookReceiver.ts). Also reports this process's
 * RSS before the run (idle: transport built, events in memory) and its peak during the run.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { createHmac } from "node:crypto"
import { Agent, request } from "node:http"
import { type Envelope, encodeEvent, noDeadline, type Transport } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { HttpTransportConfig, make } from "@sluice/transport-http"
import * as NodeHttpTransport from "@sluice/transport-http/node"
import { Effect, Layer, Redacted } from "effect"

export type Sender = "node" | "fetch"
export interface WebhookLoad {
  readonly mode: "single" | "batch"
  readonly concurrency: number
  /** Events per request in batch mode. */
  readonly batchSize: number
  /** Sluice's side: the Node sender and HMAC (`@sluice/transport-http/node`) or the portable defaults. */
  readonly sender: Sender
}
export interface WebhookRun {
  readonly rate: number
  readonly idleMb: number
  readonly peakMb: number
}

const secret = `whsec_${Buffer.from("sluice-bench-signing-key-0123456789").toString("base64")}`
const key = Buffer.from(secret.slice("whsec_".length), "base64")
// Envelopes per publish, as a relay batch would hand them (the runner's default batch is 500).
const chunk = 500

let receiver: Promise<{ readonly port: number; readonly child: ChildProcess }> | undefined
const startReceiver = () => {
  receiver ??= new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [new URL("./webhookReceiver.ts", import.meta.url).pathname], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    child.on("error", reject)
    child.stdout!.setEncoding("utf8").once("data", (line: string) => {
      child.stdout!.destroy()
      child.unref()
      process.once("exit", () => child.kill())
      resolve({ port: Number(/PORT (\d+)/.exec(line)?.[1]), child })
    })
  })
  return receiver
}

const cache = new Map<number, ReadonlyArray<Envelope>>()
/** `n` envelopes whose single-event body is about 600 bytes; made once per process (not timed). */
const envelopes = (n: number): ReadonlyArray<Envelope> => {
  const made =
    cache.get(n) ??
    Array.from({ length: n }, (_, i) => ({
      outbox_id: String(i + 1) as Envelope["outbox_id"],
      route: "bench",
      topic: "quotes",
      attempt: 1,
      event: makeEvent({
        key: String(i),
        event_type: "quote.updated",
        entity_type: "quote",
        entity_id: `SYM${i % 500}`,
        payload: { symbol: `SYM${i % 500}`, price: 100 + (i % 97) / 10, volume: i, note: "x".repeat(270) }
      })
    }))
  cache.set(n, made)
  return made
}

const rss = () => process.memoryUsage().rss / 1024 / 1024

/** Runs `load` and samples RSS every 20 ms; returns events/s and the peak. */
const timed = async (events: number, load: () => Promise<void>): Promise<WebhookRun> => {
  const idleMb = rss()
  let peakMb = idleMb
  const sampler = setInterval(() => (peakMb = Math.max(peakMb, rss())), 20)
  const started = performance.now()
  await load()
  const seconds = (performance.now() - started) / 1000
  clearInterval(sampler)
  return { rate: events / seconds, idleMb, peakMb: Math.max(peakMb, rss()) }
}

/** Runs `jobs` with at most `concurrency` at once. */
const pool = async (jobs: ReadonlyArray<() => Promise<void>>, concurrency: number) => {
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
      while (next < jobs.length) await jobs[next++]!()
    })
  )
}

/** The raw loop's request: sign, POST on the keep-alive Agent, drain the answer. */
const rawPost = (agent: Agent, port: number, id: string, body: string) =>
  new Promise<void>((resolve, reject) => {
    const timestamp = String(Math.floor(Date.now() / 1000))
    const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")
    const req = request(
      {
        agent,
        host: "127.0.0.1",
        port,
        path: "/hook",
        method: "POST",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "webhook-id": id,
          "webhook-timestamp": timestamp,
          "webhook-signature": `v1,${signature}`
        }
      },
      (res) => {
        res.resume()
        if (res.statusCode === 204) res.on("end", resolve)
        else reject(new Error(`HTTP ${res.statusCode}`))
      }
    )
    req.on("error", reject)
    req.end(body)
  })

const chunks = <A>(xs: ReadonlyArray<A>, size: number) =>
  Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size))

const raw = async (load: WebhookLoad, port: number, all: ReadonlyArray<Envelope>) => {
  const agent = new Agent({ keepAlive: true, maxSockets: load.concurrency })
  try {
    return await timed(all.length, async () => {
      for (const publish of chunks(all, chunk)) {
        const requests = load.mode === "single" ? publish.map((e) => [e]) : chunks(publish, load.batchSize)
        await pool(
          requests.map((group) => () => {
            const body = JSON.stringify(
              load.mode === "single" ? encodeEvent(group[0]!.event) : group.map((e) => encodeEvent(e.event))
            )
            return rawPost(agent, port, group[0]!.event.event_id, body)
          }),
          load.concurrency
        )
      }
    })
  } finally {
    agent.destroy()
  }
}

const sluice = (load: WebhookLoad, port: number, all: ReadonlyArray<Envelope>) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const config = HttpTransportConfig.make({
          url: `http://127.0.0.1:${port}/hook`,
          secrets: [Redacted.make(secret)],
          mode: load.mode,
          maxBatchSize: load.batchSize,
          concurrency: load.concurrency,
          timeoutMs: 10_000,
          maxRetryAfterMs: 60_000,
          headers: {}
        })
        const platform = load.sender === "node" ? NodeHttpTransport.layer() : Layer.empty
        const transport: Transport = yield* make(config, "bench").pipe(Effect.provide(platform))
        return yield* Effect.promise(() =>
          timed(all.length, async () => {
            for (const publish of chunks(all, chunk)) {
              const outcomes = await Effect.runPromise(transport.publish(publish, noDeadline))
              const failed = outcomes.find((o) => o._tag !== "Delivered")
              if (failed !== undefined) throw new Error(`not delivered: ${JSON.stringify(failed)}`)
            }
          })
        )
      })
    )
  )

/** One run of `events` events, on Sluice's side or the raw loop's. */
export const webhook = async (side: "sluice" | "raw", load: WebhookLoad, events: number): Promise<WebhookRun> => {
  const { port } = await startReceiver()
  const all = envelopes(events)
  return side === "raw" ? raw(load, port, all) : sluice(load, port, all)
}
