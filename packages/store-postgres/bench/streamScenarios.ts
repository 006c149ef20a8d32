/**
 * The streams scenarios on PostgreSQL, each as a pair like scenarios.ts: Sluice (the store's
 * appendToStream and readStream, and core's CommandHandler) and the raw reference sending the same
 * statements through postgres.js (their texts from StreamAppend/StreamRead, with unqualified table
 * names: the reference's connections put the bench schema on their search_path). Streams are filled
 * in SQL before the clock starts.
 */
import { randomBytes } from "node:crypto"
import {
  CommandHandler,
  Decider,
  type Event,
  type EventId,
  EventStore,
  Ids,
  makeRouterUnsafe,
  type StreamName,
  streamName,
  type TraceId
} from "@sluice/core"
import { DateTime, Effect, Schema } from "effect"
import * as StreamAppend from "../src/StreamAppend.ts"
import * as StreamRead from "../src/StreamRead.ts"
import { rawPg } from "./harness.ts"
import { notifier } from "./rawSql.ts"
import { route, storeLayer, WARM, withSchema, withStore } from "./scenarios.ts"

type Side = "sluice" | "raw"

const names = {
  raw: "raw_payloads",
  events: "events",
  outbox: "outbox",
  streams: "streams",
  routePauses: "route_pauses"
}
// One event per append, no raw payload: the variant the store picks for these appends.
const appendExact = StreamAppend.statements(names).exact.withoutRaw.one
const read = StreamRead.statements(names)

/** `streams` streams `counter/C<i>` of `events` events each (`counter.added`, n = 1). */
const FILL = `
WITH ev AS (
  INSERT INTO events (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, revision)
  SELECT gen_random_uuid(), 'counter.added', 'counter', 'C' || s, '4bf92f3577b34da6a3ce929d0e0e4736', 1, now(),
         '{"n":1}'::jsonb, r
  FROM generate_series(0, $1::int - 1) s, generate_series(0, $2::int - 1) r
  ORDER BY s, r
)
INSERT INTO streams (entity_type, entity_id, revision)
SELECT 'counter', 'C' || s, $2::int - 1 FROM generate_series(0, $1::int - 1) s`

const fill = async (schema: string, streams: number, events: number) => {
  const { sql } = rawPg(schema, 1)
  await sql.unsafe(FILL, [streams, events])
  await sql.unsafe("VACUUM ANALYZE events")
  await sql.unsafe("VACUUM ANALYZE streams")
  await sql.end()
}

const counterStream = (i: number): StreamName => streamName("counter", `C${i}`)

let clock = 1_900_000_000_000
const trace = "4bf92f3577b34da6a3ce929d0e0e4736" as TraceId
const counterEvent = (stream: StreamName, at: DateTime.Utc): Event => ({
  event_id: Ids.uuidV7(clock++, randomBytes(10)) as EventId,
  event_type: "counter.added",
  entity_type: stream.entity_type,
  entity_id: stream.entity_id,
  trace_id: trace,
  schema_version: 1,
  occurred_at: at,
  payload: { n: 1 }
})

const outboxOf = (event: Event) => [
  { event_id: event.event_id, route: route.name, topic: route.topic, ordering_key: null }
]

/**
 * The raw reference's exact-revision append of one event; throws if the revision was not the
 * stream's. Its outbox row is work for relays: after the commit it wakes them as the store does
 * (`notify`, from rawSql.notifier).
 */
const rawAppend = async (
  query: ReturnType<typeof rawPg>["query"],
  notify: () => void,
  stream: StreamName,
  expected: number,
  event: Event
) => {
  const params = appendExact.params({ raw: null, unique: [event], outbox: outboxOf(event), stream, expected })
  const rows = await query(appendExact.text, params)
  if (rows[0]?.ok !== true) throw new Error(`raw append: ${stream.entity_id} was not at ${expected}`)
  notify()
}

/**
 * Events per second appending one event per transaction with an exact expected revision, over
 * `connections` writers; each writer owns 8 streams (filled with one event) and appends to them in
 * turn, expecting the revision its previous append returned.
 */
export const appendToStream = (side: Side, total: number, connections: number) =>
  withSchema("postgres", "stream_append", async (schema) => {
    const perWriter = 8
    await fill(schema, connections * perWriter, 1)
    const at = DateTime.makeUnsafe(1_900_000_000_000)
    // Each writer's appends, in order, with the revision each expects (made before the clock).
    const writers = Array.from({ length: connections }, (_, w) =>
      Array.from({ length: Math.ceil((total - w) / connections) }, (_, k) => {
        const stream = counterStream(w + connections * (k % perWriter))
        return { stream, expected: Math.floor(k / perWriter), event: counterEvent(stream, at) }
      })
    )
    if (side === "sluice") {
      const layer = await storeLayer("postgres", schema, connections)
      return withStore(layer, connections, (store) =>
        Effect.gen(function* () {
          const start = performance.now()
          yield* Effect.all(
            writers.map((jobs) =>
              Effect.forEach(
                jobs,
                (job) =>
                  store.appendToStream(
                    job.stream,
                    { raw: null, events: [job.event], outbox: outboxOf(job.event) },
                    { expectedRevision: job.expected }
                  ),
                { discard: true }
              )
            ),
            { concurrency: "unbounded" }
          )
          return total / ((performance.now() - start) / 1000)
        })
      )
    }
    const { sql, query } = rawPg(schema, connections)
    const notify = notifier(query, `sluice_${schema}`)
    await Promise.all(Array.from({ length: connections }, () => sql.unsafe(WARM)))
    const start = performance.now()
    await Promise.all(
      writers.map(async (jobs) => {
        for (const job of jobs) await rawAppend(query, notify, job.stream, job.expected, job.event)
      })
    )
    const rate = total / ((performance.now() - start) / 1000)
    await sql.end()
    return rate
  })

const CounterEvent = Schema.Struct({
  type: Schema.Literal("counter.added"),
  payload: Schema.Struct({ n: Schema.Number })
})
const counter = Decider.make({
  initialState: () => 0,
  evolve: (state: number, event: typeof CounterEvent.Type) => state + event.payload.n,
  decide: (command: { readonly n: number }) =>
    Effect.succeed([{ type: "counter.added" as const, payload: { n: command.n } }])
})

/** `connections` loops running `job(i)` for i < count, sharing one counter (as scenarios.ts's appenders do). */
const loops = <A, R>(connections: number, count: number, job: (i: number) => Effect.Effect<A, unknown, R>) => {
  let next = 0
  return Effect.all(
    Array.from({ length: connections }, () =>
      Effect.gen(function* () {
        while (next < count) yield* job(next++)
      })
    ),
    { concurrency: "unbounded" }
  )
}

/**
 * Commands per second: read a 20-event stream, fold it, decide one event and append it with the
 * revision read (and its outbox row), each command on a stream of its own, over `connections`.
 */
export const commands = (side: Side, count: number, connections: number) =>
  withSchema("postgres", "stream_commands", async (schema) => {
    await fill(schema, count, 20)
    if (side === "sluice") {
      const handler = CommandHandler.make({ decider: counter, events: CounterEvent, router: makeRouterUnsafe([route]) })
      const layer = await storeLayer("postgres", schema, connections)
      return withStore(layer, connections, (store) =>
        Effect.gen(function* () {
          const start = performance.now()
          // The store provided once, as an application provides it, not once per command.
          yield* loops(connections, count, (i) => handler.handle(counterStream(i), { n: 1 })).pipe(
            Effect.provideService(EventStore, store)
          )
          return count / ((performance.now() - start) / 1000)
        })
      )
    }
    const { sql, query } = rawPg(schema, connections)
    const notify = notifier(query, `sluice_${schema}`)
    await Promise.all(Array.from({ length: connections }, () => sql.unsafe(WARM)))
    let next = 0
    const start = performance.now()
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < count) {
          const stream = counterStream(next++)
          const rows = await query(read.forwards, [stream.entity_type, stream.entity_id, 0, 1000])
          let state = 0
          for (const row of rows) state += (row.payload as { n: number }).n
          if (state !== 20) throw new Error(`raw fold: ${state}`)
          const event = counterEvent(stream, DateTime.makeUnsafe(Date.now()))
          await rawAppend(query, notify, stream, Number(rows.at(-1)!.revision), event)
        }
      })
    )
    const rate = count / ((performance.now() - start) / 1000)
    await sql.end()
    return rate
  })

/** Events per second reading whole 100-event streams (200 of them, `reads` reads) over `connections`. */
export const readStreams = (side: Side, reads: number, connections: number) =>
  withSchema("postgres", "stream_read", async (schema) => {
    const streams = 200
    await fill(schema, streams, 100)
    const check = (length: number) => {
      if (length !== 100) throw new Error(`read ${length} events of 100`)
    }
    if (side === "sluice") {
      const layer = await storeLayer("postgres", schema, connections)
      return withStore(layer, connections, (store) =>
        Effect.gen(function* () {
          const start = performance.now()
          yield* loops(connections, reads, (i) =>
            Effect.map(store.readStream(counterStream(i % streams)), (events) => check(events.length))
          )
          return (reads * 100) / ((performance.now() - start) / 1000)
        })
      )
    }
    const { sql, query } = rawPg(schema, connections)
    await Promise.all(Array.from({ length: connections }, () => sql.unsafe(WARM)))
    let next = 0
    const start = performance.now()
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (next < reads) {
          const stream = counterStream(next++ % streams)
          check((await query(read.forwards, [stream.entity_type, stream.entity_id, 0, 1000])).length)
        }
      })
    )
    const rate = (reads * 100) / ((performance.now() - start) / 1000)
    await sql.end()
    return rate
  })
