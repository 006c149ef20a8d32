/**
 * The measured scenarios, each as a pair: Sluice (the real store, and the real core relay with a
 * no-op transport) and the raw-SQL reference doing the same statements. Every run gets a fresh
 * schema; only the measured part is inside the clock.
 */
import { delivered, EventStore, OutboxQueue, Relay, type Route, type Transport, Transports } from "@sluice/core"
import { Context, Deferred, Effect, Fiber, Layer, type Scope } from "effect"
import { SqlClient } from "effect/sql"
import { PgEventStore } from "../src/index.ts"
import { makeBatches } from "./data.ts"
import {
  databaseUrl,
  dropPg,
  migratePg,
  migratePglite,
  PREFILL,
  percentile,
  pool,
  rawPg,
  rawPglite,
  schemaName,
  sharedPglite,
  sleep
} from "./harness.ts"
import * as Raw from "./rawSql.ts"

export type Driver = "postgres" | "pglite"

export const route: Route = { name: "bench", transport: "noop", topic: "quotes", match: ["**"] }

/** The store layer for a driver, in `schema` (already migrated). */
export const storeLayer = async (driver: Driver, schema: string, poolSize?: number) =>
  driver === "postgres"
    ? PgEventStore.layer({ url: databaseUrl, schema, migrate: false, ...(poolSize ? { poolSize } : {}) })
    : PgEventStore.layerPgliteInstance(await sharedPglite(), { schema, migrate: false })

export const withSchema = async <A>(driver: Driver, name: string, f: (schema: string) => Promise<A>): Promise<A> => {
  const schema = schemaName(name)
  if (driver === "postgres") await migratePg(schema)
  else await migratePglite(schema)
  try {
    return await f(schema)
  } finally {
    if (driver === "postgres") await dropPg(schema)
    else await (await sharedPglite()).exec(`DROP SCHEMA ${schema} CASCADE`)
  }
}

/** A statement that holds its connection a moment, so `n` of them at once open `n` connections. */
export const WARM = "SELECT pg_sleep(0.01)"

/**
 * Runs `f` with the built store. Before `f` starts its clock the layer is built and `connections`
 * pool connections are opened, as the reference does with its own pool.
 */
export const withStore = <A>(
  layer: Layer.Layer<EventStore | OutboxQueue | SqlClient.SqlClient, unknown>,
  connections: number,
  f: (store: EventStore["Service"], queue: OutboxQueue["Service"]) => Effect.Effect<A, unknown, Transports>
) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(layer)
        const sql = Context.get(context, SqlClient.SqlClient)
        yield* Effect.all(
          Array.from({ length: connections }, () => sql.unsafe(WARM)),
          { concurrency: "unbounded" }
        )
        return yield* f(Context.get(context, EventStore), Context.get(context, OutboxQueue))
      })
    ).pipe(
      Effect.provide(Transports.layerOf({ name: "noop", publish: (envs) => Effect.succeed(envs.map(() => delivered)) }))
    )
  )

/** Events per second appending `total` events in batches of `size` over `connections` connections. */
export const ingest = (driver: Driver, side: "sluice" | "raw", total: number, size: number, connections: number) =>
  withSchema(driver, "ingest", async (schema) => {
    const batches = makeBatches(total, size)
    if (side === "sluice") {
      // The pool has exactly `connections`, like the reference's: NOTIFYs share them. (A second
      // connection just for them cost 20-30% at 1 connection: one more busy backend on 2 cores.)
      const layer = await storeLayer(driver, schema, driver === "postgres" ? connections : undefined)
      return withStore(layer, connections, (store) =>
        Effect.gen(function* () {
          // `connections` sequential appenders pulling from one list, like the reference's `pool`.
          let next = 0
          const appender = Effect.gen(function* () {
            while (next < batches.length) yield* store.append(batches[next++]!)
          })
          const start = performance.now()
          yield* Effect.all(
            Array.from({ length: connections }, () => appender),
            { concurrency: "unbounded" }
          )
          return total / ((performance.now() - start) / 1000)
        })
      )
    }
    if (driver === "postgres") {
      const { sql, query } = rawPg(schema, connections)
      await Promise.all(Array.from({ length: connections }, () => sql.unsafe(WARM)))
      const start = performance.now()
      await pool(batches.length, connections, (i) => Raw.append(query, batches[i]!))
      const rate = total / ((performance.now() - start) / 1000)
      await sql.end()
      return rate
    }
    const { query } = await rawPglite(schema)
    const start = performance.now()
    for (const batch of batches) await Raw.append(query, batch)
    return total / ((performance.now() - start) / 1000)
  })

export const prefill = async (driver: Driver, schema: string, rows: number) => {
  if (driver === "postgres") {
    const { sql } = rawPg(schema, 1)
    await sql.unsafe(PREFILL, [rows])
    await sql.unsafe("VACUUM ANALYZE outbox")
    await sql.unsafe("VACUUM ANALYZE events")
    await sql.end()
  } else {
    const { pg } = await rawPglite(schema)
    await pg.query(PREFILL, [rows])
    await pg.exec("VACUUM ANALYZE outbox")
    await pg.exec("VACUUM ANALYZE events")
  }
}

/**
 * Rows per second draining `rows` pending rows with `workers` relay workers claiming `batch` at a
 * time. `setup` runs after the rows are in, before the clock starts (retention.ts adds history).
 */
export const drain = (
  driver: Driver,
  side: "sluice" | "raw",
  rows: number,
  batch: number,
  workers: number,
  setup?: (schema: string) => Promise<unknown>
) =>
  withSchema(driver, "drain", async (schema) => {
    await prefill(driver, schema, rows)
    await setup?.(schema)
    if (side === "sluice") {
      const layer = await storeLayer(driver, schema)
      return withStore(layer, workers, (_, queue) =>
        Effect.gen(function* () {
          const start = performance.now()
          const worker = (n: number) =>
            Effect.gen(function* () {
              let done = 0
              while (true) {
                const report = yield* Relay.runOnce({ routes: [route], batchSize: batch, owner: `w${n}` })
                done += report.delivered
                if (report.claimed === 0) return done
              }
            })
          const counts = yield* Effect.forEach(
            Array.from({ length: workers }, (_, n) => n),
            worker,
            {
              concurrency: "unbounded"
            }
          ).pipe(Effect.provideService(OutboxQueue, queue))
          const total = counts.reduce((a, b) => a + b, 0)
          if (total !== rows) return yield* Effect.die(new Error(`drained ${total} of ${rows}`))
          return rows / ((performance.now() - start) / 1000)
        })
      )
    }
    if (driver === "postgres") {
      const { sql, query } = rawPg(schema, workers)
      await Promise.all(Array.from({ length: workers }, () => sql.unsafe(WARM)))
      const start = performance.now()
      const counts = await Promise.all(
        Array.from({ length: workers }, (_, n) => Raw.drainOnce(query, "bench", batch, `w${n}`))
      )
      const rate = rows / ((performance.now() - start) / 1000)
      await sql.end()
      if (counts.reduce((a, b) => a + b, 0) !== rows) throw new Error("raw drain lost rows")
      return rate
    }
    const { query } = await rawPglite(schema)
    const start = performance.now()
    const total = await Raw.drainOnce(query, "bench", batch, "w0")
    if (total !== rows) throw new Error("raw drain lost rows")
    return rows / ((performance.now() - start) / 1000)
  })

/**
 * The relay options `sluice run` starts with when the config's `relay` section is empty
 * (apps/runner/src/Config.ts RelayConfig, turned into options by Run.ts); keep them in step.
 */
export const runnerRelayDefaults = {
  workers: 2,
  batchSize: 500,
  lease: "30 seconds",
  pollInterval: "1 second",
  gracePeriod: "10 seconds"
} as const

/**
 * Rows per second draining `rows` pending rows as `sluice run` would with its default relay settings:
 * `Relay.start` (the loop the runner's pipeline runs: workers that wait for work when a claim comes
 * back short) with the runner's defaults, timed until the no-op transport has seen every row. The
 * reference drains with the same batch size and number of workers.
 */
export const drainAtRunnerDefaults = (side: "sluice" | "raw", rows: number) =>
  withSchema("postgres", "drain_defaults", async (schema) => {
    await prefill("postgres", schema, rows)
    const { workers, batchSize } = runnerRelayDefaults
    if (side === "raw") {
      const { sql, query } = rawPg(schema, workers)
      await Promise.all(Array.from({ length: workers }, () => sql.unsafe(WARM)))
      const start = performance.now()
      const counts = await Promise.all(
        Array.from({ length: workers }, (_, n) => Raw.drainOnce(query, "bench", batchSize, `w${n}`))
      )
      const rate = rows / ((performance.now() - start) / 1000)
      await sql.end()
      if (counts.reduce((a, b) => a + b, 0) !== rows) throw new Error("raw drain lost rows")
      return rate
    }
    const layer = await storeLayer("postgres", schema)
    return withStore(layer, workers, (_, queue) =>
      Effect.scoped(
        Effect.gen(function* () {
          const done = yield* Deferred.make<void>()
          let seen = 0
          const counting = Transports.layerOf({
            name: "noop",
            publish: (envs) =>
              Effect.sync(() => {
                seen += envs.length
                if (seen >= rows) Deferred.doneUnsafe(done, Effect.void)
                return envs.map(() => delivered)
              })
          })
          const start = performance.now()
          const relay = yield* Relay.start({ routes: [route], owner: "bench", ...runnerRelayDefaults }).pipe(
            Effect.provideService(OutboxQueue, queue),
            Effect.provide(counting)
          )
          yield* Deferred.await(done)
          const rate = rows / ((performance.now() - start) / 1000)
          // The last batch's results are recorded before the relay stops.
          yield* relay.stop
          return rate
        })
      )
    )
  })

/** Where the latency rows publish to instead of the no-op transport (nats.ts: a JetStream stream). */
export interface LatencyPublisher {
  /** Sluice's side: the transport (in the run's scope); an event counts as published once delivered. */
  readonly transport: Effect.Effect<Transport, unknown, Scope.Scope>
  /** The reference's side: publishes the claimed rows, resolving once they are acknowledged. */
  readonly raw: (rows: ReadonlyArray<Record<string, unknown>>) => Promise<void>
}

/**
 * Commit-to-publish latency (ms, p50 and p99) at a steady `rate` of single-event appends. The relay
 * runs on its own store instance (its own pool and LISTEN connection), as in another process, so
 * it learns of work through NOTIFY only. With a `publisher`, published means acknowledged by it.
 */
export const latency = (side: "sluice" | "raw", rate: number, events: number, publisher?: LatencyPublisher) =>
  withSchema("postgres", "latency", async (schema) => {
    const batches = makeBatches(events, 1)
    const committed = new Map<string, number>()
    const published = new Map<string, number>()
    const record = (ids: ReadonlyArray<string>) => {
      const now = performance.now()
      for (const id of ids) if (!published.has(id)) published.set(id, now)
    }
    const interval = 1000 / rate
    if (side === "sluice") {
      const transport =
        publisher === undefined
          ? Transports.layerOf({
              name: "noop",
              publish: (envs) =>
                Effect.sync(() => {
                  record(envs.map((e) => e.event.event_id))
                  return envs.map(() => delivered)
                })
            })
          : Layer.effect(
              Transports,
              Effect.map(publisher.transport, (inner) =>
                Transports.makeOf([
                  {
                    name: "noop",
                    publish: (envs, context) =>
                      Effect.tap(inner.publish(envs, context), (outcomes) =>
                        Effect.sync(() =>
                          record(envs.filter((_, i) => outcomes[i]?._tag === "Delivered").map((e) => e.event.event_id))
                        )
                      )
                  }
                ])
              )
            )
      const relayLayer = Layer.mergeAll(await storeLayer("postgres", schema), transport)
      const ingestLayer = await storeLayer("postgres", schema)
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const relayContext = yield* Layer.build(relayLayer)
            const relay = yield* Effect.forkScoped(
              Relay.run({ routes: [route] }).pipe(Effect.provideContext(relayContext))
            )
            const store = Context.get(yield* Layer.build(ingestLayer), EventStore)
            yield* Effect.sleep("200 millis")
            const start = performance.now()
            for (const [i, batch] of batches.entries()) {
              const wait = start + i * interval - performance.now()
              if (wait > 0) yield* Effect.sleep(wait)
              yield* store.append(batch)
              committed.set(batch.events[0]!.event_id, performance.now())
            }
            while (published.size < events && performance.now() - start < events * interval + 5000)
              yield* Effect.sleep(20)
            yield* Fiber.interrupt(relay)
          })
        )
      )
    } else {
      const producer = rawPg(schema, 1)
      const relay = rawPg(schema, 1)
      // A notification that comes while the loop drains is kept, not lost (as the store does).
      let wake: (() => void) | undefined
      let kept = false
      await relay.sql.listen(`sluice_${schema}`, () => {
        if (wake === undefined) kept = true
        else wake()
      })
      let running = true
      const loop = (async () => {
        while (running) {
          await Raw.drainOnce(relay.query, "bench", 100, "raw", (rows) =>
            publisher === undefined
              ? record(rows.map((r) => String(r.event_id)))
              : publisher.raw(rows).then(() => record(rows.map((r) => String(r.event_id))))
          )
          if (kept) {
            kept = false
            continue
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(() => {
              wake = undefined
              resolve()
            }, 1000)
            wake = () => {
              wake = undefined
              clearTimeout(timer)
              resolve()
            }
          })
        }
      })()
      await sleep(200)
      const start = performance.now()
      for (const [i, batch] of batches.entries()) {
        const wait = start + i * interval - performance.now()
        if (wait > 0) await sleep(wait)
        await Raw.append(producer.query, batch)
        committed.set(batch.events[0]!.event_id, performance.now())
        await producer.sql.notify(`sluice_${schema}`, "")
      }
      while (published.size < events && performance.now() - start < events * interval + 5000) await sleep(20)
      running = false
      wake?.()
      await loop
      await producer.sql.end()
      await relay.sql.end()
    }
    if (published.size < events) throw new Error(`only ${published.size} of ${events} events were published`)
    const lags = [...committed].map(([id, at]) => published.get(id)! - at)
    return { p50: percentile(lags, 50), p99: percentile(lags, 99) }
  })

/** The runner's relay defaults as the peer rows name Sluice's side. */
export const runnerDefaultsLabel = `relay, batch ${runnerRelayDefaults.batchSize}, ${runnerRelayDefaults.workers} workers, 1 process`
