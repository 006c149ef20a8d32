/**
 * The NATS JetStream source -> PostgreSQL store, against a raw consume + batched insert: messages
 * per second ingested from a stream prefilled with ~600-byte messages (NATS_URL, default the local
 * server). Sluice: `@sluice/source-nats` ticked by `Ingest.tick` (a fetch of `batch` messages, one
 * transaction, acked after the commit), with the runner's node:crypto content hash. Reference: the same client pulling `batch` at a time, one
 * transaction per batch inserting the raw payloads and the events with postgres.js (two `unnest`
 * statements), then the acks. Each run reads the stream from the start through a fresh durable.
 */
import { createHash, randomUUID } from "node:crypto"
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { headers as natsHeaders } from "@nats-io/nats-core"
import { connect } from "@nats-io/transport-node"
import { ContentHash, Ingest, makeRouterUnsafe } from "@sluice/core"
import { make as makeNatsSource } from "@sluice/source-nats"
import { Effect, Layer } from "effect"
import { rawPg } from "./harness.ts"
import { storeLayer, withSchema } from "./scenarios.ts"

const natsUrl = process.env.NATS_URL ?? "nats://127.0.0.1:4222"
const noRoutes = makeRouterUnsafe([])

/** A ~600-byte order as JSON. */
const body = (i: number) =>
  JSON.stringify({
    order: i,
    customer: `customer-${i % 997}`,
    currency: "EUR",
    items: Array.from({ length: 4 }, (_, k) => ({ sku: `SKU-${(i * 7 + k) % 10_000}`, qty: 1 + k, price: 9.99 + k })),
    note: "x".repeat(380)
  })

let prefilled: Promise<{ readonly name: string; readonly close: () => Promise<void> }> | undefined
/** One stream per process, prefilled once with `total` messages (ids set); `closeNats` deletes it. */
const stream = async (total: number): Promise<string> => {
  prefilled ??= (async () => {
    const nc = await connect({ servers: natsUrl, noAsyncTraces: true })
    const jsm = await jetstreamManager(nc)
    const name = `bench_nats_source_${process.pid}`
    await jsm.streams.add({ name, subjects: [`${name}.>`] })
    const js = jetstream(nc)
    for (let from = 0; from < total; from += 1000) {
      const wave: Array<Promise<unknown>> = []
      for (let i = from; i < Math.min(total, from + 1000); i++) {
        const h = natsHeaders()
        h.set("Nats-Msg-Id", `order-${i}`)
        wave.push(js.publish(`${name}.${i}`, body(i), { headers: h }))
      }
      await Promise.all(wave)
    }
    const close = async () => {
      await jsm.streams.delete(name).catch(() => false)
      await nc.close()
    }
    return { name, close }
  })()
  return (await prefilled).name
}

/** Deletes this process's stream, if it made one (the bench's processes end with `process.exit`). */
export const closeNats = async (): Promise<void> => {
  const made = prefilled
  prefilled = undefined
  if (made !== undefined) await (await made).close()
}

let consumers = 0
const consumerName = () => `bench_${process.pid}_${++consumers}`

/** The source through the real store and `Ingest.tick`. */
const sluice = (schema: string, name: string, total: number, batch: number) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const start = performance.now()
        const source = yield* makeNatsSource(
          {
            servers: [natsUrl],
            stream: name,
            consumer: consumerName(),
            batchSize: batch,
            idleWait: "5 seconds",
            mapping: { eventType: "order.placed", entityType: "order" }
          },
          "bench-nats"
        )
        let appended = 0
        while (appended < total) {
          const report = yield* Ingest.tick(source, noRoutes)
          appended += report.payloads.reduce((n, p) => n + p.appended, 0)
        }
        return total / ((performance.now() - start) / 1000)
      }).pipe(
        // As the runner does (apps/runner/src/Run.ts): the content hash by node:crypto.
        Effect.provideService(ContentHash, (text) => createHash("sha256").update(text, "utf8").digest("hex")),
        Effect.provide(Layer.unwrap(Effect.promise(() => storeLayer("postgres", schema, 1))))
      )
    )
  )

/** The reference: pull, two batched inserts in one transaction, ack. */
const raw = async (schema: string, name: string, total: number, batch: number) => {
  const { sql } = rawPg(schema, 1)
  await sql`SELECT 1`
  const start = performance.now()
  const nc = await connect({ servers: natsUrl, noAsyncTraces: true })
  const jsm = await jetstreamManager(nc)
  const durable = consumerName()
  await jsm.consumers.add(name, { durable_name: durable, ack_policy: AckPolicy.Explicit })
  const consumer = await jetstream(nc).consumers.get(name, durable)
  let stored = 0
  while (stored < total) {
    const messages = await consumer.fetch({ max_messages: batch, expires: 5000 })
    const held = []
    for await (const m of messages) {
      held.push(m)
      if (held.length === batch || stored + held.length === total) break
    }
    const rows = held.map((m) => {
      const text = m.string()
      return {
        raw_id: randomUUID(),
        event_id: randomUUID(),
        body: text,
        hash: createHash("sha256").update(text).digest("hex"),
        request: JSON.stringify({ stream: name, subject: m.subject, seq: m.seq, id: m.headers?.get("Nats-Msg-Id") }),
        entity: m.subject.slice(m.subject.lastIndexOf(".") + 1),
        at: new Date(Math.floor(Number(m.info.timestampNanos) / 1e6)).toISOString()
      }
    })
    const now = new Date().toISOString()
    await sql.begin(async (tx) => {
      await tx.unsafe(
        `INSERT INTO raw_payloads (raw_id, source, content_type, body, request, received_at, trace_id, content_hash)
         SELECT r, 'bench-nats', 'application/json', b, q::jsonb, $5::timestamptz, '4bf92f3577b34da6a3ce929d0e0e4736', h
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS x(r, b, q, h)
         ON CONFLICT (raw_id) DO NOTHING`,
        [rows.map((r) => r.raw_id), rows.map((r) => r.body), rows.map((r) => r.request), rows.map((r) => r.hash), now]
      )
      await tx.unsafe(
        `INSERT INTO events (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, raw_id, revision)
         SELECT e, 'order.placed', 'order', i, '4bf92f3577b34da6a3ce929d0e0e4736', 1, t, p::jsonb, r, 0
         FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], $5::uuid[]) AS x(e, i, t, p, r)
         ON CONFLICT (event_id) DO NOTHING`,
        [
          rows.map((r) => r.event_id),
          rows.map((r) => r.entity),
          rows.map((r) => r.at),
          rows.map((r) => r.body),
          rows.map((r) => r.raw_id)
        ]
      )
    })
    for (const m of held) m.ack()
    await nc.flush()
    messages.stop()
    stored += held.length
  }
  const rate = total / ((performance.now() - start) / 1000)
  await nc.close()
  await sql.end()
  return rate
}

/** Messages per second ingested from a stream of `total` ~600-byte messages, `batch` per fetch. */
export const natsIngest = (side: "sluice" | "raw", total: number, batch: number) =>
  withSchema("postgres", "nats", async (schema) => {
    const name = await stream(total)
    return side === "sluice" ? sluice(schema, name, total, batch) : raw(schema, name, total, batch)
  })
