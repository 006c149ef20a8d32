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
import { peerDrain, peerLabel, peerSetups } from "@sluice/bench-peers"
import { drainCombined } from "./combinedClaim.ts"
import { closePglite } from "./harness.ts"
import { liveSubscription } from "./liveSubscription.ts"
import {
  CHILD_ROWS,
  childGroup,
  measure,
  measureLatency,
  measurePush,
  measureRss,
  measureWebhook,
  n,
  rows,
  runs,
  scale
} from "./measure.ts"
import * as Nats from "./nats.ts"
import { closeNats, natsIngest } from "./natsSource.ts"
import { projectionCatchUp } from "./projectionCatchUp.ts"
import { type PushLoad, push } from "./push.ts"
import { drainInProcesses } from "./relayProcesses.ts"
import { report } from "./report.ts"
import { retentionRows } from "./retentionRows.ts"
import { drainRss, idleRss } from "./rss.ts"
import { drain, drainAtRunnerDefaults, ingest, latency, runnerDefaultsLabel, runnerRelayDefaults } from "./scenarios.ts"
import { appendToStream, commands, readStreams } from "./streamScenarios.ts"
import { catchUp } from "./subscriptions.ts"
import { type WebhookLoad, webhook } from "./webhook.ts"

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
  // The same read as a projection: each batch's events written in its transaction (projectionCatchUp.ts).
  const projectionEvents = n(20_000)
  await measure(
    `projection catch-up over ${projectionEvents} events, batch 100, read model and checkpoint in one transaction`,
    "postgres",
    (s) => projectionCatchUp(s, projectionEvents, 100)
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

  report(rows, { runs, scale, started, resultsDir, peersLabel: runnerDefaultsLabel })
}
