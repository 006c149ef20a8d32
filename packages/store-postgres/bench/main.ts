/**
 * `pnpm bench`: Sluice's stores against the raw-SQL reference on this machine, on PostgreSQL and on
 * PGlite. Each row is the median of BENCH_RUNS runs (default 3); every Sluice number is also given as
 * a ratio to the reference (for latency: reference / Sluice, so above 1 is better for both kinds).
 * Every scenario runs in a fresh child process (this file again, with BENCH_GROUP set), so no
 * scenario inherits another's heap, JIT state or connections: measured after the drains in one
 * process, the latency p99 of both sides grew by 20-50%. Writes bench/results/<timestamp>.json and
 * prints a table. The NATS rows need the local JetStream: "nats-relay ..." (nats.ts: publishing into
 * JetStream) and "nats-source ..." (natsSource.ts: ingesting from it); "nats" selects both. BENCH_ONLY
 * (comma-separated substrings, any case, e.g. "latency,pglite relay" or
 * "rss") runs only the rows whose "<driver> <scenario>" contains one of them ("<driver> peers <peer>
 * <scenario>" for the peer rows, so "peers" or "graphile" select those). The "runner ... RSS"
 * rows are the memory of the real runner process (rss.ts), without a reference. The peer rows
 * (bench/peers/peers.ts) set the relay at the runner's defaults against graphile-worker and pg-boss, each in the
 * reference's place, and print as a table of their own.
 * The "push ingest" rows (push.ts, `--only push`) load source-http's handler, on Node and on Deno,
 * and a raw node:http server with autocannon.
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { peerDrain, peerLabel, peerSetups } from "@sluice/bench-peers"
import { drainCombined } from "./combinedClaim.ts"
import { closePglite, median, withPrivateDatabase } from "./harness.ts"
import { liveSubscription } from "./liveSubscription.ts"
import * as Nats from "./nats.ts"
import { closeNats, natsIngest } from "./natsSource.ts"
import { type PushLoad, type PushRun, push } from "./push.ts"
import { drainInProcesses } from "./relayProcesses.ts"
import { addHistory, checkpoint, pruneHistory, pruneUnderLoad } from "./retention.ts"
import { drainRss, idleRss } from "./rss.ts"
import {
  type Driver,
  drain,
  drainAtRunnerDefaults,
  ingest,
  latency,
  runnerDefaultsLabel,
  runnerRelayDefaults,
  withSchema
} from "./scenarios.ts"
import { appendToStream, commands, readStreams } from "./streamScenarios.ts"
import { catchUp } from "./subscriptions.ts"
import { type WebhookLoad, type WebhookRun, webhook } from "./webhook.ts"

interface Row {
  readonly driver: Driver
  readonly name: string
  readonly unit: "events/s" | "ms" | "MB" | "samples"
  readonly sluice: ReadonlyArray<number>
  /** The reference's runs (the raw SQL, or the peer's); none for the runner's memory rows. */
  readonly raw?: ReadonlyArray<number>
  /** For a row against a peer job queue (bench/peers/peers.ts): which, e.g. "pg-boss 12.38.1". */
  readonly peer?: string
}

const runs = Number(process.env.BENCH_RUNS ?? 3)
// Discarded runs per side before the measured ones: in a fresh process the first run of either side
// was up to 2x slower than the next (JIT, the database's caches).
const warmups = Number(process.env.BENCH_WARMUP ?? 1)
const scale = Number(process.env.BENCH_SCALE ?? 1)
const n = (x: number) => Math.max(1, Math.round(x * scale))
const only = (process.env.BENCH_ONLY ?? "")
  .split(",")
  .map((s) => s.trim().toLowerCase())
  .filter((s) => s !== "")
const selected = (driver: Driver, name: string, peer?: string) =>
  only.length === 0 ||
  only.some((s) => `${driver} ${peer === undefined ? "" : `peers ${peer} `}${name}`.toLowerCase().includes(s))
const rows: Array<Row> = []

// Which scenario this process runs: all of them (the parent, which delegates each to a child) or one.
const childGroup = process.env.BENCH_GROUP === undefined ? undefined : Number(process.env.BENCH_GROUP)
const CHILD_ROWS = "BENCH_ROWS "
let group = -1

/** Runs the next scenario: in a child process when this is the parent, here when it is this child's. */
const isolated = async (compute: () => Promise<ReadonlyArray<Row>>) => {
  group++
  if (childGroup === undefined) {
    const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
      env: { ...process.env, BENCH_GROUP: String(group) },
      stdio: ["ignore", "pipe", "inherit"],
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024
    })
    const line = child.stdout.split("\n").find((l) => l.startsWith(CHILD_ROWS))
    if (child.status !== 0 || line === undefined)
      throw new Error(`bench scenario ${group} failed (exit ${child.status})`)
    rows.push(...(JSON.parse(line.slice(CHILD_ROWS.length)) as ReadonlyArray<Row>))
  } else if (childGroup === group) {
    rows.push(...(await compute()))
  }
}

type Side = "sluice" | "raw"

/**
 * Runs `f` for both sides: `warmups` discarded runs each, then `runs` measured ones, alternating
 * which side goes first so that warm-up and cache effects favour neither.
 */
const sample = async <A>(f: (side: Side) => Promise<A>) => {
  const sluice: Array<A> = []
  const raw: Array<A> = []
  for (let i = 0; i < warmups; i++) {
    await f("raw")
    await f("sluice")
  }
  for (let i = 0; i < runs; i++) {
    const order: ReadonlyArray<Side> = i % 2 === 0 ? ["raw", "sluice"] : ["sluice", "raw"]
    for (const side of order) (side === "raw" ? raw : sluice).push(await f(side))
  }
  return { sluice, raw }
}

/** Measures one throughput row (unless BENCH_ONLY leaves it out) and adds it to `rows`. */
const measure = async (name: string, driver: Driver, f: (side: Side) => Promise<number>, peer?: string) => {
  if (!selected(driver, name, peer)) return
  await isolated(async () => {
    const { sluice, raw } = await sample(f)
    console.error(
      `  ${[driver, peer, name].filter((x) => x !== undefined).join(" ")}: sluice ${Math.round(median(sluice))}, ${peer ?? "raw"} ${Math.round(median(raw))}`
    )
    return [{ driver, name, unit: "events/s", sluice, raw, ...(peer === undefined ? {} : { peer }) }]
  })
}

/** Measures a latency's p50 and p99 rows (one set of runs gives both). */
const measureLatency = async (
  driver: Driver,
  name: (p: "p50" | "p99") => string,
  f: (side: Side) => Promise<{ readonly p50: number; readonly p99: number }>
) => {
  if (!selected(driver, name("p50")) && !selected(driver, name("p99"))) return
  await isolated(async () => {
    const { sluice, raw } = await sample(f)
    const latencyRows = (["p50", "p99"] as const).map(
      (p) =>
        ({
          driver,
          name: name(p),
          unit: "ms",
          sluice: sluice.map((r) => r[p]),
          raw: raw.map((r) => r[p])
        }) satisfies Row
    )
    for (const row of latencyRows)
      console.error(
        `  ${driver} ${row.name}: sluice ${median(row.sluice).toFixed(1)} ms, raw ${median(row.raw).toFixed(1)} ms`
      )
    return latencyRows
  })
}

/**
 * Measures memory rows of the runner: `f` gives one value per row name for one run (a fresh runner
 * process each time, so no warm-up), repeated `runs` times.
 */
const measureRss = async <K extends string>(
  driver: Driver,
  names: Record<K, string>,
  f: () => Promise<{ readonly [k in NoInfer<K>]?: number | undefined }>
) => {
  const keys = (Object.keys(names) as Array<K>).filter((k) => selected(driver, names[k]))
  if (keys.length === 0) return
  await isolated(async () => {
    const values = new Map<K, Array<number>>(keys.map((k) => [k, []]))
    for (let i = 0; i < runs; i++) {
      const run = await f()
      for (const k of keys) {
        const value = run[k]
        if (value !== undefined) values.get(k)!.push(value)
      }
    }
    return keys.map((k): Row => {
      console.error(`  ${driver} ${names[k]}: ${Math.round(median(values.get(k)!))} MB`)
      return { driver, name: names[k], unit: "MB", sluice: values.get(k)! }
    })
  })
}

/** The retention rows (retention.ts), in a database of their own. */
const retentionRows = async () => {
  const history = n(1_000_000)
  const freshRows = n(50_000)
  const rows = async () => {
    for (const batch of [500, 100]) {
      const drainWith = (label: string, setup: (schema: string) => Promise<unknown>) =>
        measure(
          `retention: relay drain ${freshRows} rows, batch ${batch}, 1 worker, ${history} delivered rows of history, ${label} (reference: empty outbox)`,
          "postgres",
          (s) =>
            drain("postgres", "sluice", freshRows, batch, 1, async (schema) => {
              if (s === "sluice") await setup(schema)
              await checkpoint(schema)
            })
        )
      await drainWith("no retention", (schema) => addHistory(schema, history))
      await drainWith("after prune (batches of 1000, VACUUM)", async (schema) => {
        await addHistory(schema, history)
        await pruneHistory(schema, 1000, true)
      })
      await drainWith("after prune without VACUUM", async (schema) => {
        await addHistory(schema, history)
        await pruneHistory(schema, 1000, false)
      })
    }
    await measurePruneUnderLoad(history)
  }
  // Only the parent makes the database (when a retention row is selected); a child runs in the
  // one its parent made.
  if (childGroup !== undefined) await rows()
  else if (
    only.length === 0 ||
    only.some((s) => "postgres retention: relay drain prune".includes(s) || s.includes("retention"))
  )
    await withPrivateDatabase("bench_retention", rows)
}

/**
 * The prune of `history` rows while the relay drains (retention.ts pruneUnderLoad), `runs` times:
 * its time, the relay's claim latency while it ran against before it, and the lock-wait samples.
 */
const measurePruneUnderLoad = async (history: number) => {
  const name = (what: string) =>
    `retention: prune ${history} delivered rows (batches of 1000, VACUUM) while the relay drains: ${what}`
  const names = [
    name("time"),
    name("relay claim p50 (reference: before the prune)"),
    name("relay claim p99 (reference: before the prune)"),
    name("pg_locks samples with a lock wait")
  ]
  if (!names.some((row) => selected("postgres", row))) return
  await isolated(async () => {
    const results = []
    for (let i = 0; i < runs; i++)
      results.push(await withSchema("postgres", "prune_load", (schema) => pruneUnderLoad(schema, history, 1000)))
    for (const r of results)
      console.error(
        `  prune under load: ${Math.round(r.pruneMs)} ms, claim p50 ${r.before.p50.toFixed(1)} -> ${r.during.p50.toFixed(1)} ms, p99 ${r.before.p99.toFixed(1)} -> ${r.during.p99.toFixed(1)} ms, lock waits in ${r.lockWaitSamples} of ${r.samples} samples`
      )
    return [
      { driver: "postgres", name: names[0]!, unit: "ms", sluice: results.map((r) => r.pruneMs) },
      {
        driver: "postgres",
        name: names[1]!,
        unit: "ms",
        sluice: results.map((r) => r.during.p50),
        raw: results.map((r) => r.before.p50)
      },
      {
        driver: "postgres",
        name: names[2]!,
        unit: "ms",
        sluice: results.map((r) => r.during.p99),
        raw: results.map((r) => r.before.p99)
      },
      {
        driver: "postgres",
        name: names[3]!,
        unit: "samples",
        sluice: results.map((r) => r.lockWaitSamples),
        raw: results.map((r) => r.samples)
      }
    ] satisfies ReadonlyArray<Row>
  })
}

/** A webhook throughput row and this process's RSS before and during the load, from one set of runs. */
const measureWebhook = async (name: string, f: (side: Side) => Promise<WebhookRun>) => {
  if (!selected("postgres", name)) return
  await isolated(async () => {
    const { sluice, raw } = await sample(f)
    const row = (suffix: string, unit: Row["unit"], k: keyof WebhookRun): Row => ({
      driver: "postgres",
      name: `${name}${suffix}`,
      unit,
      sluice: sluice.map((r) => r[k]),
      raw: raw.map((r) => r[k])
    })
    const webhookRows = [
      row("", "events/s", "rate"),
      row(": RSS idle", "MB", "idleMb"),
      row(": peak RSS", "MB", "peakMb")
    ]
    for (const r of webhookRows)
      console.error(`  ${r.name}: sluice ${Math.round(median(r.sluice))}, raw ${Math.round(median(r.raw!))}`)
    return webhookRows
  })
}

/**
 * A push ingest row (push.ts): requests/s and p99 from one set of runs. Each run warms up on its own
 * (a fresh server process), so these rows take no discarded runs.
 */
const measurePush = async (name: string, f: (side: Side) => Promise<PushRun>) => {
  const names = { rate: `${name}: requests/s`, p99: `${name}: p99` } as const
  if (!selected("postgres", names.rate) && !selected("postgres", names.p99)) return
  await isolated(async () => {
    const sluice: Array<PushRun> = []
    const raw: Array<PushRun> = []
    for (let i = 0; i < runs; i++)
      for (const side of i % 2 === 0 ? (["raw", "sluice"] as const) : (["sluice", "raw"] as const))
        (side === "raw" ? raw : sluice).push(await f(side))
    const pushRows: ReadonlyArray<Row> = [
      {
        driver: "postgres",
        name: names.rate,
        unit: "events/s",
        sluice: sluice.map((r) => r.rate),
        raw: raw.map((r) => r.rate)
      },
      { driver: "postgres", name: names.p99, unit: "ms", sluice: sluice.map((r) => r.p99), raw: raw.map((r) => r.p99) }
    ]
    for (const r of pushRows)
      console.error(`  ${r.name}: sluice ${median(r.sluice).toFixed(1)}, raw ${median(r.raw!).toFixed(1)}`)
    return pushRows
  })
}

export const main = async (resultsDir: string) => {
  const started = performance.now()
  if (childGroup === undefined) console.error(`sluice bench: ${runs} runs per row, scale ${scale}`)
  // PostgreSQL
  await measure("ingest, 1 event/transaction, 1 connection", "postgres", (s) => ingest("postgres", s, n(2000), 1, 1))
  await measure("ingest, 1 event/transaction, 16 connections", "postgres", (s) => ingest("postgres", s, n(8000), 1, 16))
  await measure("ingest, batches of 100, 2 connections", "postgres", (s) => ingest("postgres", s, n(40_000), 100, 2))
  await measure("ingest, batches of 1000, 2 connections", "postgres", (s) => ingest("postgres", s, n(50_000), 1000, 2))
  // The NATS JetStream source (natsSource.ts): messages/s, not events/s (one event per message).
  const natsMessages = n(50_000)
  await measure(`nats-source: ${natsMessages} ~600-byte messages, fetch 256, 1 connection`, "postgres", (s) =>
    natsIngest(s, natsMessages, 256)
  )
  // The same Sluice side against a reference with its guarantees: ids from the message identity,
  // a message delivered again stored once, stream revisions (natsSource.ts `rawDeduplicated`).
  await measure(
    `nats-source: ${natsMessages} ~600-byte messages, fetch 256, 1 connection (reference: deduplicated, stream revisions)`,
    "postgres",
    (s) => natsIngest(s, natsMessages, 256, "deduplicated")
  )
  await closeNats()
  // The relay drains as many rows as the peers below drain jobs.
  const drainRows = n(100_000)
  for (const [batch, workers] of [
    [100, 1],
    [500, 1],
    [500, 2],
    [1000, 1],
    [1000, 2],
    [1000, 4]
  ] as const) {
    await measure(`relay drain ${drainRows} rows, batch ${batch}, ${workers} worker(s)`, "postgres", (s) =>
      drain("postgres", s, drainRows, batch, workers)
    )
  }
  await measure(
    `relay drain ${drainRows} rows at the runner's defaults (batch ${runnerRelayDefaults.batchSize}, ${runnerRelayDefaults.workers} workers)`,
    "postgres",
    (s) => drainAtRunnerDefaults(s, drainRows)
  )
  // The same drain in 2 relay processes sharing the database (relayProcesses.ts), against one such
  // process. (2 and 3 processes of 1 worker each measured 0.79x and 0.99x of it: not kept.)
  await measure(
    `relay drain ${drainRows} rows at the runner's defaults in 2 processes of 2 workers (reference: 1 such process)`,
    "postgres",
    (s) => drainInProcesses(s === "sluice" ? 2 : 1, drainRows)
  )
  // The raw reference recording a batch and claiming the next in one statement, against two (combinedClaim.ts).
  await measure(
    `raw relay drain ${drainRows} rows, batch 500, 2 workers: record + claim in one statement (Sluice column) vs two (raw column)`,
    "postgres",
    (s) => drainCombined(s === "sluice" ? "combined" : "split", drainRows, 500, 2)
  )
  // Retention (retention.ts): the drain with a million delivered rows of history, against the
  // same drain on an empty outbox (in the reference's column), without and after `prune`. In a
  // database of their own (the parent makes it, the children inherit its URL): other sessions'
  // open transactions in a shared one keep VACUUM from removing anything.
  await retentionRows()
  // Peers: the relay at the runner's defaults against each peer draining as many jobs (bench/peers/peers.ts).
  for (const setup of peerSetups) {
    const peer = peerLabel(setup.options.peer)
    const window = setup.windowSeconds === undefined ? "" : `, the peer timed over its first ${setup.windowSeconds} s`
    await measure(
      `drain ${drainRows} jobs${window}: ${setup.settings}`,
      "postgres",
      (s) => (s === "sluice" ? drainAtRunnerDefaults("sluice", drainRows) : peerDrain(setup, drainRows)),
      peer
    )
    // A peer in several processes also against as many relay processes (relayProcesses.ts).
    if (setup.processes > 1)
      await measure(
        `drain ${drainRows} jobs${window}: ${setup.settings}; Sluice in ${setup.processes} relay processes`,
        "postgres",
        (s) => (s === "sluice" ? drainInProcesses(setup.processes, drainRows) : peerDrain(setup, drainRows)),
        peer
      )
  }
  // Streams: 1 event per transaction with an exact expected revision; a command (read 20 events,
  // fold, decide, append with the revision read); whole 100-event streams read.
  for (const [events, connections] of [
    [n(2000), 1],
    [n(8000), 16]
  ] as const) {
    await measure(
      `appendToStream, exact revision, 1 event/transaction, ${connections} connection${connections === 1 ? "" : "s"}`,
      "postgres",
      (s) => appendToStream(s, events, connections)
    )
  }
  await measure("command handling on 20-event streams, 16 connections (commands/s)", "postgres", (s) =>
    commands(s, n(2000), 16)
  )
  await measure("readStream of 100-event streams, 16 connections", "postgres", (s) => readStreams(s, n(2000), 16))
  // 2,000 events (10 s) per run: a p99 over 1,000 events is the 10th slowest one, and the
  // reference's moved between 2.9 and 4.5 ms across three runs of the same code.
  await measureLatency(
    "postgres",
    (p) => `commit-to-publish ${p} at 200 events/s (NOTIFY)`,
    (s) => latency(s, 200, n(2000))
  )
  // The same 2,000 events at 200/s, followed live by a subscription (liveSubscription.ts).
  const live = (p: "p50" | "p99") => `live subscription commit-to-handler ${p} at 200 events/s`
  await measureLatency(
    "postgres",
    (p) => `${live(p)} (NOTIFY)`,
    (s) => liveSubscription("postgres", s, 200, n(2000))
  )
  const catchUpEvents = n(100_000)
  await measure(
    `subscription catch-up over ${catchUpEvents} events, batch 1000, checkpoint per batch`,
    "postgres",
    (s) => catchUp("postgres", s, catchUpEvents, 1000)
  )
  // Webhooks (no database): HttpTransport.publish vs a raw node:http loop, same concurrency (webhook.ts).
  const hooks = n(20_000)
  for (const [mode, concurrency, batchSize, sender] of [
    ["single", 4, 1, "node"],
    ["single", 8, 1, "node"],
    ["single", 16, 1, "node"],
    ["single", 8, 1, "fetch"],
    ["batch", 4, 50, "node"],
    ["batch", 4, 100, "node"],
    ["batch", 8, 100, "node"],
    ["batch", 4, 100, "fetch"]
  ] as const) {
    const load: WebhookLoad = { mode, concurrency, batchSize, sender }
    const events = mode === "single" ? hooks : hooks * 5
    const label = mode === "single" ? "single" : `batch ${batchSize}`
    await measureWebhook(`webhook ${label}, concurrency ${concurrency}, ${sender} sender, ${events} events`, (s) =>
      webhook(s, load, events)
    )
  }
  // Push ingest (push.ts): source-http's handler on node:http vs a raw node:http server, autocannon load.
  // The "deno" rows run the handler with Deno.serve under the pinned Deno, against the same reference.
  for (const runtime of ["node", "deno"] as const)
    for (const signed of [false, true])
      for (const connections of [16, 64]) {
        const pushLoad: PushLoad = { runtime, connections, signed, warmupSeconds: n(2), seconds: n(10) }
        await measurePush(
          `push ingest, 1 event/request, ${connections} keep-alive connections, signatures ${signed ? "on" : "off"}, handler on ${runtime}`,
          (s) => push(s, pushLoad)
        )
      }
  // NATS JetStream on the local server (nats.ts), the "nats-relay" rows: the client's ceiling, the
  // transport's own cost, the relay draining into a stream, commit-to-ack latency. Each run on a fresh
  // file stream, one replica.
  const natsEvents = n(50_000)
  await measure(
    `nats-relay client publish ceiling (no database), ${natsEvents} events, 1000 in flight: noAsyncTraces (Sluice column) vs the client's default (raw column)`,
    "postgres",
    (s) => Nats.publishCeiling(s, natsEvents)
  )
  await measure(
    `nats-relay transport publish (no database), ${natsEvents} events in batches of 1000 vs the client, 1000 in flight`,
    "postgres",
    (s) => Nats.transportPublish(s, natsEvents)
  )
  for (const workers of [1, 2]) {
    await measure(
      `nats-relay drain ${natsEvents} rows to JetStream, batch 500, ${workers} worker(s)`,
      "postgres",
      (s) => Nats.drainToNats(s, natsEvents, 500, workers)
    )
  }
  await measureLatency(
    "postgres",
    (p) => `nats-relay commit-to-JetStream-ack ${p} at 200 events/s (NOTIFY)`,
    (s) => Nats.latencyToNats(s, 200, n(2000))
  )
  // PGlite (in process, one connection)
  await measure("ingest, 1 event/transaction", "pglite", (s) => ingest("pglite", s, n(2000), 1, 1))
  await measure("ingest, batches of 100", "pglite", (s) => ingest("pglite", s, n(20_000), 100, 1))
  await measure("ingest, batches of 1000", "pglite", (s) => ingest("pglite", s, n(20_000), 1000, 1))
  const pgliteDrain = n(30_000)
  for (const batch of [100, 1000]) {
    await measure(`relay drain ${pgliteDrain} rows, batch ${batch}, 1 worker`, "pglite", (s) =>
      drain("pglite", s, pgliteDrain, batch, 1)
    )
  }
  await measure(`subscription catch-up over ${catchUpEvents} events, batch 1000, checkpoint per batch`, "pglite", (s) =>
    catchUp("pglite", s, catchUpEvents, 1000)
  )
  await measureLatency(
    "pglite",
    (p) => `${live(p)} (in process)`,
    (s) => liveSubscription("pglite", s, 200, n(2000))
  )
  await closePglite()
  // The runner's memory (a real `sluice run` process, webhook transport, no sources)
  const rssDrain = n(30_000)
  const drainName = `runner peak RSS draining ${rssDrain} events to a webhook`
  await measureRss(
    "pglite",
    { fresh: "runner idle RSS, new data directory", existing: "runner idle RSS, restarted" },
    () => idleRss("embedded")
  )
  await measureRss("postgres", { fresh: "runner idle RSS" }, () => idleRss("postgres"))
  await measureRss("pglite", { peak: drainName }, () => drainRss("embedded", rssDrain))
  await measureRss("postgres", { peak: drainName }, () => drainRss("postgres", rssDrain))
  if (childGroup !== undefined) {
    console.log(`${CHILD_ROWS}${JSON.stringify(rows)}`)
    return
  }

  const table = rows.map((row) => {
    const sluice = median(row.sluice)
    const raw = row.raw === undefined ? null : median(row.raw)
    const ratio = raw === null ? null : row.unit === "ms" ? raw / sluice : sluice / raw
    return { ...row, median: { sluice, raw }, ratio }
  })
  const fmt = (x: number | null, unit: string) =>
    x === null
      ? "-"
      : unit === "ms"
        ? `${x.toFixed(1)} ms`
        : unit === "MB"
          ? `${Math.round(x)} MB`
          : unit === "samples"
            ? `${Math.round(x)}`
            : x < 10
              ? `${x.toFixed(1)}/s`
              : `${Math.round(x).toLocaleString("en-US")}/s`
  const ratio = ({ ratio: x }: (typeof table)[number]) =>
    x === null ? "-" : x >= 100 ? `${Math.round(x).toLocaleString("en-US")}x` : `${x.toFixed(2)}x`
  const lines = [
    "| store | scenario | Sluice | raw SQL | ratio |",
    "|---|---|---:|---:|---:|",
    ...table
      .filter((r) => r.peer === undefined)
      .map(
        (r) =>
          `| ${r.driver} | ${r.name} | ${fmt(r.median.sluice, r.unit)} | ${fmt(r.median.raw, r.unit)} | ${ratio(r)} |`
      )
  ]
  const peers = table.filter((r) => r.peer !== undefined)
  if (peers.length > 0)
    lines.push(
      "",
      `Peers on the same PostgreSQL, no-op handler. Sluice: ${runnerDefaultsLabel} (the runner's defaults).`,
      "",
      "| peer | scenario | Sluice | peer | Sluice / peer |",
      "|---|---|---:|---:|---:|",
      ...peers.map(
        (r) =>
          `| ${r.peer} | ${r.name} | ${fmt(r.median.sluice, r.unit)} | ${fmt(r.median.raw, r.unit)} | ${ratio(r)} |`
      )
    )
  console.log(lines.join("\n"))
  const seconds = (performance.now() - started) / 1000
  console.log(
    `\n${runs} runs per row (median), ${seconds.toFixed(0)} s total. Ratio: Sluice / raw or peer (latency: raw / Sluice).`
  )
  mkdirSync(resultsDir, { recursive: true })
  const stamp = new Date().toISOString().replace(/[:.]/g, "-")
  const file = join(resultsDir, `bench-${stamp}.json`)
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), runs, scale, node: process.version, seconds, rows: table }, null, 2)}\n`
  )
  console.log(`results: ${file}`)
}
