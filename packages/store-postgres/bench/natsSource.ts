/**
 * The NATS JetStream source -> PostgreSQL store, against a raw consume + batched insert: messages
 * per second ingested from a stream prefilled with ~600-byte messages (NATS_URL, default the local
 * server). Sluice: `@sluice/source-nats` run by `Ingest.run`, the runner's ingest loop (pipelined for
 * this source: a fetch of `batch` messages prepared while the previous one is appended, and appended
 * beside it when they share no entity; one transaction each, acked in order after its commit), with
 * the runner's node:crypto content hash. Reference: the same client pulling `batch` at a time, one
 * transaction per batch inserting the raw payloads and the events with postgres.js (two `unnest`
 * statements), then the acks. It writes random ids and no stream rows, so a message delivered again
 * becomes a second event: less than the source guarantees. The second reference (`rawDeduplicated`)
 * does the same job with the source's guarantees. Each run reads the stream from the start through a
 * fresh durable.
 */
import { createHash, randomUUID } from "node:crypto"
import { AckPolicy, type JsMsg, jetstream, jetstreamManager } from "@nats-io/jetstream"
import { headers as natsHeaders } from "@nats-io/nats-core"
import { connect } from "@nats-io/transport-node"
import { ContentHash, Ingest, Metrics, makeRouterUnsafe } from "@sluice/core"
import { make as makeNatsSource } from "@sluice/source-nats"
import { Effect, Fiber, Layer, Metric } from "effect"
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

/** The source through the real store and `Ingest.run`, until `total` events were appended. */
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
        const ingested = Metrics.forSource(Metrics.eventsIngested, "bench-nats")
        const before = (yield* Metric.value(ingested)).count
        const loop = yield* Effect.forkChild(
          Ingest.run(source, noRoutes, { interval: source.pollInterval ?? "1 millis" })
        )
        while ((yield* Metric.value(ingested)).count - before < total) yield* Effect.sleep("2 millis")
        const rate = total / ((performance.now() - start) / 1000)
        yield* Fiber.interrupt(loop)
        return rate
      }).pipe(
        // As the runner does (apps/runner/src/Run.ts): the content hash by node:crypto.
        Effect.provideService(ContentHash, (text) => createHash("sha256").update(text, "utf8").digest("hex")),
        Effect.provide(Layer.unwrap(Effect.promise(() => storeLayer("postgres", schema, 1))))
      )
    )
  )

/**
 * A reference's consume loop: pull `batch` messages at a time through a fresh durable, `store` them
 * (one transaction), ack them; messages per second over `total`.
 */
const consume = async (
  schema: string,
  name: string,
  total: number,
  batch: number,
  store: (sql: ReturnType<typeof rawPg>["sql"], held: ReadonlyArray<JsMsg>) => Promise<void>
) => {
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
    await store(sql, held)
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

/** The reference: pull, two batched inserts in one transaction, ack. */
const raw = (schema: string, name: string, total: number, batch: number) =>
  consume(schema, name, total, batch, async (sql, held) => {
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
  })

/** A name-based UUID (RFC 9562 §5.5, SHA-1) of `name` in the name space `namespace` (16 bytes). */
const uuidV5 = (namespace: Buffer, name: string): string => {
  const bytes = createHash("sha1").update(namespace).update(name, "utf8").digest().subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
const rawNamespace = Buffer.from(randomUUID().replace(/-/g, ""), "hex")
const eventNamespace = Buffer.from(randomUUID().replace(/-/g, ""), "hex")

/**
 * The reference with the source's guarantees, by hand: raw payload and event ids derived from the
 * message's identity (so a redelivered message is stored once), the event at its stream's next
 * revision through the `streams` row (locked in order, so concurrent writers take turns), one
 * statement per fetch. An event stored meanwhile by another writer fails the statement on
 * events_pkey, and a later transaction's stream row fails it as a serialization failure: it runs
 * again, as the store's does.
 */
const deduplicatedInsert = `
  WITH raw AS (
    INSERT INTO raw_payloads (raw_id, source, content_type, body, request, received_at, trace_id, content_hash)
    SELECT r, 'bench-nats', 'application/json', b, q::jsonb, $5::timestamptz, '4bf92f3577b34da6a3ce929d0e0e4736', h
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS x(r, b, q, h)
    ON CONFLICT (raw_id) DO NOTHING
  ),
  fresh AS (
    SELECT x.*, row_number() OVER (PARTITION BY x.i ORDER BY x.o) AS n, count(*) OVER (PARTITION BY x.i) AS k
    FROM unnest($6::uuid[], $7::text[], $8::timestamptz[], $1::uuid[], $2::text[]) WITH ORDINALITY AS x(e, i, t, r, p, o)
    WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_id = x.e)
  ),
  st AS (
    INSERT INTO streams AS s (entity_type, entity_id, revision)
    SELECT 'order', i, max(k) - 1 FROM fresh GROUP BY i ORDER BY i
    ON CONFLICT (entity_type, entity_id) DO UPDATE SET revision = s.revision + excluded.revision + 1
    RETURNING entity_id, revision
  )
  INSERT INTO events (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, raw_id, revision)
  SELECT f.e, 'order.placed', 'order', f.i, '4bf92f3577b34da6a3ce929d0e0e4736', 1, f.t, f.p::jsonb, f.r, st.revision - f.k + f.n
  FROM fresh f JOIN st ON st.entity_id = f.i
  ORDER BY f.o`

const rawDeduplicated = (schema: string, name: string, total: number, batch: number) =>
  consume(schema, name, total, batch, async (sql, held) => {
    const rows = held.map((m) => {
      const text = m.string()
      const msgId = m.headers?.get("Nats-Msg-Id")
      const id = msgId ? `msg-id:${msgId}` : `seq:${name}/${m.seq}`
      return {
        raw_id: uuidV5(rawNamespace, id),
        event_id: uuidV5(eventNamespace, id),
        body: text,
        hash: createHash("sha256").update(text).digest("hex"),
        request: JSON.stringify({ stream: name, subject: m.subject, seq: m.seq, id }),
        entity: m.subject.slice(m.subject.lastIndexOf(".") + 1),
        at: new Date(Math.floor(Number(m.info.timestampNanos) / 1e6)).toISOString()
      }
    })
    const params = [
      rows.map((r) => r.raw_id),
      rows.map((r) => r.body),
      rows.map((r) => r.request),
      rows.map((r) => r.hash),
      new Date().toISOString(),
      rows.map((r) => r.event_id),
      rows.map((r) => r.entity),
      rows.map((r) => r.at)
    ]
    for (let attempt = 0; ; attempt++) {
      try {
        await sql.unsafe(deduplicatedInsert, params)
        break
      } catch (error) {
        const code = (error as { readonly code?: string }).code
        if (attempt >= 3 || (code !== "23505" && code !== "40001")) throw error
      }
    }
  })

/** Messages per second ingested from a stream of `total` ~600-byte messages, `batch` per fetch. */
export const natsIngest = (
  side: "sluice" | "raw",
  total: number,
  batch: number,
  reference: "plain" | "deduplicated" = "plain"
) =>
  withSchema("postgres", "nats", async (schema) => {
    const name = await stream(total)
    if (side === "sluice") return sluice(schema, name, total, batch)
    return reference === "plain" ? raw(schema, name, total, batch) : rawDeduplicated(schema, name, total, batch)
  })
