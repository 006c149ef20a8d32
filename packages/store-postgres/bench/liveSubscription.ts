/**
 * Live subscription latency: a writer appends single-event batches at a steady rate while a
 * subscription follows the log live; each event's latency is the time its handler saw it minus the
 * time its append returned (committed), both from `performance.now()` in this process.
 *
 * Sluice: core's `Subscription.start` (batches read after its checkpoint, a checkpoint saved per
 * batch, woken by the store's wake-ups) and the store's `append`. The raw reference does the same
 * with nothing in between: the same gap-free read and checkpoint statements (subscriptions.ts), and
 * a wake-up after each commit. On PostgreSQL the subscriber has its own connections, as in another
 * process, and learns of commits by LISTEN/NOTIFY only (Sluice's writer sends its rate-limited
 * NOTIFY after commit, the reference's one NOTIFY per commit). On PGlite (one process, one
 * connection) both sides wake the subscriber in process.
 */
import { EventStore, Subscription } from "@sluice/core"
import { Context, Effect, Layer } from "effect"
import { makeBatches } from "./data.ts"
import { percentile, rawPg, rawPglite, sleep } from "./harness.ts"
import * as Raw from "./rawSql.ts"
import { type Driver, storeLayer, withSchema } from "./scenarios.ts"
import { FIRST_SAVE, READ, SAVE } from "./subscriptions.ts"

/** Latency percentiles (ms) of one run. */
export interface Latency {
  readonly p50: number
  readonly p99: number
}

/** A subscriber's wake-up that keeps a signal given while nobody waits (as core's WorkSignal does). */
const makeSignal = () => {
  let wake: (() => void) | undefined
  let kept = false
  return {
    signal: () => {
      if (wake === undefined) kept = true
      else wake()
    },
    /** Waits for a signal, at most `ms`. */
    wait: (ms: number) =>
      new Promise<void>((resolve) => {
        if (kept) {
          kept = false
          return resolve()
        }
        const timer = setTimeout(() => {
          wake = undefined
          resolve()
        }, ms)
        wake = () => {
          wake = undefined
          clearTimeout(timer)
          resolve()
        }
      })
  }
}

/**
 * The reference subscriber: read after the checkpoint (below the oldest running transaction), hand
 * the rows over, save the checkpoint (compare-and-set), and wait for a wake-up after a short batch.
 */
const rawSubscriber = (
  query: Raw.Query,
  batch: number,
  wakeups: ReturnType<typeof makeSignal>,
  handle: (rows: ReadonlyArray<Record<string, unknown>>) => void
) => {
  let running = true
  let from: { tx: string; position: string } | null = null
  const loop = (async () => {
    while (running) {
      const rows = await query(READ, [from?.tx ?? "0", from?.position ?? "0", batch])
      const last = rows.at(-1)
      if (last !== undefined) {
        handle(rows)
        const to = { tx: String(last.transaction_id), position: String(last.position) }
        const saved =
          from === null
            ? await query(FIRST_SAVE, ["raw-live", to.tx, to.position])
            : await query(SAVE, ["raw-live", to.tx, to.position, from.tx, from.position])
        if (saved.length !== 1) throw new Error("raw checkpoint conflict")
        from = to
      }
      if (rows.length < batch && running) await wakeups.wait(1000)
    }
  })()
  return async () => {
    running = false
    wakeups.signal()
    await loop
  }
}

/**
 * Commit-to-handler latency (ms, p50 and p99) of a live subscription while `events` single-event
 * appends are made at `rate` per second.
 */
export const liveSubscription = (driver: Driver, side: "sluice" | "raw", rate: number, events: number) =>
  withSchema(driver, "live", async (schema): Promise<Latency> => {
    const batches = makeBatches(events, 1)
    const committed = new Map<string, number>()
    const handled = new Map<string, number>()
    const record = (ids: ReadonlyArray<string>) => {
      const now = performance.now()
      for (const id of ids) if (!handled.has(id)) handled.set(id, now)
    }
    const interval = 1000 / rate
    const batchSize = 1000
    const done = (start: number) => handled.size >= events || performance.now() - start > events * interval + 5000
    if (side === "sluice") {
      // PostgreSQL: the subscriber on a store instance of its own (pool and LISTEN), as in another
      // process. PGlite: one instance, woken in process.
      const subscriberLayer = await storeLayer(driver, schema)
      const writerLayer = driver === "postgres" ? await storeLayer(driver, schema) : undefined
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const subscriberContext = yield* Layer.build(subscriberLayer)
            const writerContext = writerLayer === undefined ? subscriberContext : yield* Layer.build(writerLayer)
            const store = Context.get(writerContext, EventStore)
            yield* Subscription.start({
              name: "bench-live",
              batchSize,
              handle: (logged) => Effect.sync(() => record(logged.map((e) => e.event.event_id)))
            }).pipe(Effect.provide(Layer.succeedContext(subscriberContext)))
            yield* Effect.sleep("200 millis")
            const start = performance.now()
            for (const [i, batch] of batches.entries()) {
              const wait = start + i * interval - performance.now()
              if (wait > 0) yield* Effect.sleep(wait)
              yield* store.append(batch)
              committed.set(batch.events[0]!.event_id, performance.now())
            }
            while (!done(start)) yield* Effect.sleep(20)
          })
        )
      )
    } else {
      const wakeups = makeSignal()
      const handle = (rows: ReadonlyArray<Record<string, unknown>>) => record(rows.map((r) => String(r.event_id)))
      let stop: () => Promise<void>
      let append: (i: number) => Promise<void>
      let close = async () => {}
      if (driver === "postgres") {
        const producer = rawPg(schema, 1)
        const subscriber = rawPg(schema, 1)
        await subscriber.sql.listen(`sluice_${schema}`, wakeups.signal)
        stop = rawSubscriber(subscriber.query, batchSize, wakeups, handle)
        append = async (i) => {
          await Raw.append(producer.query, batches[i]!)
          committed.set(batches[i]!.events[0]!.event_id, performance.now())
          await producer.sql.notify(`sluice_${schema}`, "")
        }
        close = async () => {
          await producer.sql.end()
          await subscriber.sql.end()
        }
      } else {
        const { query } = await rawPglite(schema)
        stop = rawSubscriber(query, batchSize, wakeups, handle)
        append = async (i) => {
          await Raw.append(query, batches[i]!)
          committed.set(batches[i]!.events[0]!.event_id, performance.now())
          wakeups.signal()
        }
      }
      await sleep(200)
      const start = performance.now()
      for (let i = 0; i < batches.length; i++) {
        const wait = start + i * interval - performance.now()
        if (wait > 0) await sleep(wait)
        await append(i)
      }
      while (!done(start)) await sleep(20)
      await stop()
      await close()
    }
    if (handled.size < events) throw new Error(`only ${handled.size} of ${events} events were handled`)
    const lags = [...committed].map(([id, at]) => handled.get(id)! - at)
    return { p50: percentile(lags, 50), p99: percentile(lags, 99) }
  })
