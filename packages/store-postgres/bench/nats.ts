/**
 * The NATS JetStream publishing rows, named "nats-relay ..." (`pnpm bench --only nats-relay`; `--only nats`
 * also selects the source's "nats-source" row), on the local server (NATS_URL, default
 * nats://127.0.0.1:4222), each run on a stream of its own (file storage, one replica), deleted after:
 * - the client's publish ceiling (no database): async JetStream publishes, 1,000 in flight, ~600-byte
 *   events with unique ids, with `noAsyncTraces` (the transport's default) against the client's default;
 * - the transport's `publish` of 1,000-envelope batches against the same client loop, both without
 *   async traces: what the transport's own work costs;
 * - draining outbox rows into the stream: Sluice's relay with the NATS transport against a loop
 *   that claims and completes with the raw reference's SQL (rawSql.ts) and publishes the claimed rows
 *   with the same client, payload and headers, awaiting the acks before completing;
 * - commit-to-ack latency at a steady rate (scenarios.ts `latency`, with the ack as the publish).
 */
import { type JetStreamClient, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream"
import { headers, type NatsConnection } from "@nats-io/nats-core"
import { connect } from "@nats-io/transport-node"
import { type Envelope, noDeadline, OutboxQueue, Relay, type Route, type Transport, Transports } from "@sluice/core"
import { makeEvent } from "@sluice/core/testing"
import { headerNames, make, NatsTransportConfig, traceparent } from "@sluice/transport-nats"
import { Effect, Schema } from "effect"
import { rawPg } from "./harness.ts"
import * as Raw from "./rawSql.ts"
import { latency, prefill, storeLayer, WARM, withSchema, withStore } from "./scenarios.ts"

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222"
const inFlight = 1000

let streams = 0
/** A fresh stream capturing `<prefix>.>` for `f`, deleted afterwards (not timed). */
const withStream = async <A>(f: (prefix: string) => Promise<A>): Promise<A> => {
  const nc = await connect({ servers: natsUrl })
  const jsm = await jetstreamManager(nc)
  const prefix = `bench${process.pid}x${++streams}`
  const name = prefix.toUpperCase()
  await jsm.streams.add({ name, subjects: [`${prefix}.>`], storage: StorageType.File, num_replicas: 1 })
  try {
    return await f(prefix)
  } finally {
    await jsm.streams.delete(name).catch(() => false)
    await nc.close()
  }
}

const cache = new Map<number, ReadonlyArray<Envelope>>()
/** `n` envelopes whose event JSON is about 600 bytes, unique ids; made once per process (not timed). */
const envelopes = (n: number): ReadonlyArray<Envelope> => {
  const made =
    cache.get(n) ??
    Array.from({ length: n }, (_, i) => ({
      outbox_id: String(i + 1) as Envelope["outbox_id"],
      event: makeEvent({
        event_type: "quote.updated",
        entity_type: "quote",
        payload: { symbol: `SYM${i % 500}`, price: 100 + (i % 97) / 10, volume: i, note: "x".repeat(260) }
      }),
      route: "bench",
      topic: "quotes",
      attempt: 1
    }))
  cache.set(n, made)
  return made
}

/** The message the transport sends for an event, built by hand as a raw publisher would. */
const rawMessage = (
  event: {
    readonly event_id: string
    readonly event_type: string
    readonly entity_type: string
    readonly entity_id: string
    readonly trace_id: string
    readonly schema_version: number
  },
  data: string,
  spanId: string
) => {
  const h = headers()
  h.set(headerNames.traceparent, traceparent(event.trace_id, spanId))
  h.set(headerNames.eventType, event.event_type)
  h.set(headerNames.schemaVersion, String(event.schema_version))
  h.set(headerNames.entityType, event.entity_type)
  h.set(headerNames.entityId, event.entity_id)
  h.set(headerNames.route, "bench")
  h.set(headerNames.topic, "quotes")
  h.set(headerNames.attempt, "1")
  return { data, options: { msgID: event.event_id, headers: h, timeout: 10_000 } }
}

const spanId = "00f067aa0ba902b7"

/** Publishes `count` messages from `message(i)` with `inFlight` outstanding at any time. */
const slidingWindow = (
  js: JetStreamClient,
  subject: string,
  count: number,
  message: (i: number) => ReturnType<typeof rawMessage>
) =>
  new Promise<void>((resolve, reject) => {
    let next = 0
    let done = 0
    const start = () => {
      const { data, options } = message(next++)
      js.publish(subject, data, options).then(() => {
        if (++done === count) resolve()
        else if (next < count) start()
      }, reject)
    }
    for (let i = 0; i < Math.min(inFlight, count); i++) start()
  })

const connectBench = (noAsyncTraces: boolean): Promise<NatsConnection> => connect({ servers: natsUrl, noAsyncTraces })

/**
 * Publishes per second of the bare client: `n` ~600-byte events, 1,000 in flight. Sluice's column is
 * the client as the transport connects it (`noAsyncTraces`), the raw one the client's default.
 */
export const publishCeiling = (side: "sluice" | "raw", n: number) =>
  withStream(async (prefix) => {
    const events = envelopes(n).map((e) => e.event)
    const bodies = events.map((e) => JSON.stringify({ ...e, occurred_at: "2027-01-15T08:00:00.000Z" }))
    const nc = await connectBench(side === "sluice")
    const js = jetstream(nc)
    const start = performance.now()
    await slidingWindow(js, `${prefix}.quotes.quote.updated`, n, (i) => rawMessage(events[i]!, bodies[i]!, spanId))
    const rate = n / ((performance.now() - start) / 1000)
    await nc.close()
    return rate
  })

const transportConfig = (prefix: string) =>
  Schema.decodeUnknownSync(NatsTransportConfig)({ servers: [natsUrl], subject: `${prefix}.{topic}.{event_type}` })

/**
 * Publishes per second of `NatsTransport.publish` given batches of 1,000 envelopes (no relay, no
 * database), against the raw client loop above (both without async traces).
 */
export const transportPublish = (side: "sluice" | "raw", n: number) =>
  side === "raw"
    ? withStream(async (prefix) => {
        const events = envelopes(n).map((e) => e.event)
        const nc = await connectBench(true)
        const js = jetstream(nc)
        const start = performance.now()
        await slidingWindow(js, `${prefix}.quotes.quote.updated`, n, (i) => {
          const event = events[i]!
          return rawMessage(event, JSON.stringify({ ...event, occurred_at: "2027-01-15T08:00:00.000Z" }), spanId)
        })
        const rate = n / ((performance.now() - start) / 1000)
        await nc.close()
        return rate
      })
    : withStream((prefix) =>
        Effect.runPromise(
          Effect.scoped(
            Effect.gen(function* () {
              const transport = yield* make(transportConfig(prefix), "nats")
              const all = envelopes(n)
              const start = performance.now()
              for (let i = 0; i < n; i += inFlight) {
                const outcomes = yield* transport.publish(all.slice(i, i + inFlight), noDeadline)
                if (outcomes.some((o) => o._tag !== "Delivered")) return yield* Effect.die(new Error("not delivered"))
              }
              return n / ((performance.now() - start) / 1000)
            })
          )
        )
      )

const natsRoute: Route = { name: "bench", transport: "nats", topic: "quotes", match: ["**"] }

/** The rows the raw reference claimed, published as the transport would, acks awaited. */
const publishRows = (js: JetStreamClient, prefix: string) => async (rows: ReadonlyArray<Record<string, unknown>>) => {
  await Promise.all(
    rows.map((row) => {
      const event = {
        event_id: String(row.event_id),
        event_type: String(row.event_type),
        entity_id: String(row.entity_id),
        entity_type: String(row.entity_type),
        trace_id: String(row.trace_id),
        schema_version: Number(row.schema_version),
        occurred_at: (row.occurred_at as Date).toISOString(),
        payload: row.payload
      }
      const { data, options } = rawMessage(event, JSON.stringify(event), spanId)
      return js.publish(`${prefix}.${String(row.topic)}.${event.event_type}`, data, options)
    })
  )
}

/** Rows per second draining `rows` outbox rows into JetStream with `workers` workers claiming `batch`. */
export const drainToNats = (side: "sluice" | "raw", rows: number, batch: number, workers: number) =>
  withStream((prefix) =>
    withSchema("postgres", "nats_drain", async (schema) => {
      await prefill("postgres", schema, rows)
      if (side === "raw") {
        const nc = await connectBench(true)
        const js = jetstream(nc)
        const { sql, query } = rawPg(schema, workers)
        await Promise.all(Array.from({ length: workers }, () => sql.unsafe(WARM)))
        const start = performance.now()
        const counts = await Promise.all(
          Array.from({ length: workers }, (_, w) =>
            Raw.drainOnce(query, "bench", batch, `w${w}`, publishRows(js, prefix))
          )
        )
        const rate = rows / ((performance.now() - start) / 1000)
        await sql.end()
        await nc.close()
        if (counts.reduce((a, b) => a + b, 0) !== rows) throw new Error("raw drain lost rows")
        return rate
      }
      const layer = await storeLayer("postgres", schema)
      return withStore(layer, workers, (_, queue) =>
        Effect.scoped(
          Effect.gen(function* () {
            const transport: Transport = yield* make(transportConfig(prefix), "nats")
            const start = performance.now()
            const worker = (w: number) =>
              Effect.gen(function* () {
                let done = 0
                while (true) {
                  const report = yield* Relay.runOnce({ routes: [natsRoute], batchSize: batch, owner: `w${w}` })
                  done += report.delivered
                  if (report.claimed === 0) return done
                }
              })
            const counts = yield* Effect.forEach(
              Array.from({ length: workers }, (_, w) => w),
              worker,
              { concurrency: "unbounded" }
            ).pipe(
              Effect.provideService(OutboxQueue, queue),
              Effect.provideService(Transports, Transports.makeOf([transport]))
            )
            const total = counts.reduce((a, b) => a + b, 0)
            if (total !== rows) return yield* Effect.die(new Error(`drained ${total} of ${rows}`))
            return rows / ((performance.now() - start) / 1000)
          })
        )
      )
    })
  )

/** Commit-to-ack latency (ms, p50 and p99) at `rate` events/s: scenarios.ts `latency` publishing to JetStream. */
export const latencyToNats = (side: "sluice" | "raw", rate: number, events: number) =>
  withStream(async (prefix) => {
    const nc = await connectBench(true)
    const js = jetstream(nc)
    try {
      return await latency(side, rate, events, {
        transport: make(transportConfig(prefix), "nats"),
        raw: publishRows(js, prefix)
      })
    } finally {
      await nc.close()
    }
  })
