/**
 * Retention rows (issue 19): what a million delivered rows of history cost the relay's drain, with
 * and without `prune`, and what a prune of that million costs the relay while it runs.
 *
 * History rows are outbox rows that were pending and then delivered (inserted pending, so the
 * claim's partial index got their entries, then updated), left unvacuumed: the test server runs
 * with autovacuum off, and a production one's lags under load. Their next_attempt_at is older than
 * the fresh rows', so the claim's index walk meets their entries first, as it would in life. They
 * have no events (the claim never joins a delivered row with its event), which keeps the setup short.
 */
import { delivered, OutboxAdmin, OutboxQueue, Relay, Transports } from "@sluice/core"
import { Context, Duration, Effect, Fiber, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { percentile, rawPg, sleep } from "./harness.ts"
import { route, storeLayer, WARM } from "./scenarios.ts"

/** New work for the relay: `$1` events (each its own stream) and their outbox rows. */
const FEED = `
WITH ev AS (
  INSERT INTO events (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, revision)
  SELECT gen_random_uuid(), 'quote.updated', 'feed', gen_random_uuid()::text, '4bf92f3577b34da6a3ce929d0e0e4736', 1, now(),
         '{"price": 1}'::jsonb, 0
  FROM generate_series(1, $1::int)
  RETURNING event_id
)
INSERT INTO outbox (event_id, route, topic) SELECT event_id, 'bench', 'quotes' FROM ev`

/** Setup of the history (not timed): `history` delivered rows, two days old, unvacuumed. */
export const addHistory = async (schema: string, history: number) => {
  const { sql } = rawPg(schema, 1)
  await sql.unsafe(
    `INSERT INTO outbox (event_id, route, topic, next_attempt_at, created_at)
     SELECT gen_random_uuid(), 'bench', 'quotes', now() - interval '3 days', now() - interval '3 days'
     FROM generate_series(1, $1::int)`,
    [history]
  )
  await sql.unsafe(
    `UPDATE outbox SET status = 'delivered', attempts = 1, delivered_at = now() - interval '2 days'
     WHERE status = 'pending' AND created_at < now() - interval '1 day'`
  )
  // What autovacuum's analyze would know; no VACUUM (that is what retention is measured against).
  await sql.unsafe("ANALYZE outbox")
  await sql.end()
}

/**
 * Writes the setup's dirty pages out before the clock starts (`CHECKPOINT`), on both sides: a
 * million inserted, updated and deleted rows leave hundreds of MB of WAL, and a checkpoint falling
 * inside the timed drain measured the setup's I/O, not the claim (the claim's own cost after a
 * prune was the empty outbox's: 12 buffers and 0.3 ms per claim of 500 in EXPLAIN ANALYZE, against
 * 3,800-4,800 buffers and 8.7 ms with the history unvacuumed).
 */
export const checkpoint = async (schema: string) => {
  const { sql } = rawPg(schema, 1)
  await sql.unsafe("CHECKPOINT")
  await sql.end()
}

/** The policy of the rows: delivered rows older than a day, in batches of `batchSize`. */
const policy = (batchSize: number, vacuum: boolean) => ({ delivered: Duration.days(1), batchSize, vacuum })

/** Runs `prune` through the store (setup of the "after prune" rows); returns its time in ms. */
export const pruneHistory = async (schema: string, batchSize: number, vacuum: boolean) => {
  const layer = await storeLayer("postgres", schema, 2)
  return Effect.runPromise(
    Effect.scoped(
      Effect.gen(function* () {
        const context = yield* Layer.build(layer)
        const start = performance.now()
        yield* Context.get(context, OutboxAdmin).prune(policy(batchSize, vacuum))
        return performance.now() - start
      })
    )
  )
}

export interface PruneUnderLoad {
  /** Wall time of the prune (its batches and the VACUUM), ms. */
  readonly pruneMs: number
  /** The relay's claim latency before the prune started and while it ran, ms. */
  readonly before: { readonly p50: number; readonly p99: number }
  readonly during: { readonly p50: number; readonly p99: number }
  /** pg_locks samples (every 50 ms while the prune ran) that held an ungranted lock on the outbox. */
  readonly lockWaitSamples: number
  readonly samples: number
}

/**
 * Prunes `history` delivered rows while a feeder appends `rate` rows/s (in SQL, 100 at a time) and
 * the Sluice relay (one worker, batch 500) drains them. The relay's claims are timed one by one
 * for `baselineMs` before the prune and throughout it; pg_locks is sampled every 50 ms for
 * ungranted locks on the schema's tables (a claim or a prune batch waiting for the other).
 */
export const pruneUnderLoad = async (
  schema: string,
  history: number,
  batchSize: number,
  rate = 5000,
  baselineMs = 5000
): Promise<PruneUnderLoad> => {
  await addHistory(schema, history)
  await checkpoint(schema)
  const feeder = rawPg(schema, 1)
  const watcher = rawPg(schema, 1)
  let feeding = true
  const feed = (async () => {
    while (feeding) {
      const start = performance.now()
      await feeder.sql.unsafe(FEED, [100])
      await sleep(Math.max(0, 100_000 / rate - (performance.now() - start)))
    }
  })()
  const layer = await storeLayer("postgres", schema, 4)
  const noop = Transports.layerOf({ name: "noop", publish: (envs) => Effect.succeed(envs.map(() => delivered)) })
  try {
    return await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(layer)
          const sql = Context.get(context, SqlClient.SqlClient)
          yield* Effect.all([sql.unsafe(WARM), sql.unsafe(WARM)], { concurrency: "unbounded" })
          const queue = Context.get(context, OutboxQueue)
          let phase: "before" | "during" | "after" = "before"
          const latencies = { before: [] as Array<number>, during: [] as Array<number>, after: [] as Array<number> }
          const timed = OutboxQueue.of({
            ...queue,
            claim: (options) =>
              Effect.suspend(() => {
                const start = performance.now()
                const at = phase
                return Effect.tap(queue.claim(options), () =>
                  Effect.sync(() => latencies[at].push(performance.now() - start))
                )
              })
          })
          const relay = yield* Effect.forkChild(
            Effect.forever(
              Effect.flatMap(Relay.runOnce({ routes: [route], batchSize: 500, owner: "w0" }), (report) =>
                report.claimed === 0 ? Effect.sleep(Duration.millis(10)) : Effect.void
              )
            ).pipe(Effect.provideService(OutboxQueue, timed), Effect.provide(noop))
          )
          yield* Effect.sleep(Duration.millis(baselineMs))
          phase = "during"
          let samples = 0
          let lockWaitSamples = 0
          let sampling = true
          const sampler = (async () => {
            while (sampling) {
              const [row] = await watcher.sql.unsafe(
                `SELECT count(*)::int AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                 JOIN pg_namespace s ON s.oid = c.relnamespace
                 WHERE NOT l.granted AND s.nspname = $1`,
                [schema]
              )
              samples++
              if ((row?.n as number) > 0) lockWaitSamples++
              await sleep(50)
            }
          })()
          const start = performance.now()
          yield* Context.get(context, OutboxAdmin).prune(policy(batchSize, true))
          const pruneMs = performance.now() - start
          phase = "after"
          sampling = false
          yield* Effect.promise(() => sampler)
          yield* Fiber.interrupt(relay)
          const p = (xs: ReadonlyArray<number>) => ({ p50: percentile(xs, 50), p99: percentile(xs, 99) })
          return { pruneMs, before: p(latencies.before), during: p(latencies.during), lockWaitSamples, samples }
        })
      )
    )
  } finally {
    feeding = false
    await feed
    await feeder.sql.end()
    await watcher.sql.end()
  }
}
