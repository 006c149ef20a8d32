/**
 * Subscription catch-up: a subscriber reads a log of `events` events from the start in batches of
 * `batch`, saving its checkpoint after each batch (a compare-and-set), against the raw reference:
 * the same read (after a (transaction id, position) pair, below the oldest running transaction) and
 * the same checkpoint statement through postgres.js or PGlite with nothing in between. The log is
 * written beforehand (not timed) by transactions of 1,000 events each.
 */
import { Subscription, SubscriptionStore } from "@sluice/core"
import { Context, Effect, Layer } from "effect"
import { PgEventStore } from "../src/index.ts"
import { databaseUrl, dropPg, migratePg, migratePglite, rawPg, rawPglite, schemaName, sharedPglite } from "./harness.ts"
import type { Query } from "./rawSql.ts"
import type { Driver } from "./scenarios.ts"

/** Events $2 + 1 to $2 + $1 of the log (one transaction), over 500 streams numbered gap-free. */
const FILL = `
INSERT INTO events (event_id, event_type, entity_type, entity_id, trace_id, schema_version, occurred_at, payload, revision)
SELECT gen_random_uuid(), 'quote.updated', 'quote', 'SYM' || (g % 500), '4bf92f3577b34da6a3ce929d0e0e4736', 1, now(),
       jsonb_build_object('symbol', 'SYM' || (g % 500), 'price', 100 + (g % 97) / 10.0, 'volume', g), (g - 1) / 500
FROM generate_series($2::int + 1, $2::int + $1::int) g
ORDER BY g`

export const READ = `
SELECT e.event_id::text AS event_id, e.position::text AS position, e.transaction_id::text AS transaction_id,
       e.raw_id::text AS raw_id, e.recorded_at, e.event_type, e.entity_id, e.entity_type, e.trace_id,
       e.schema_version, e.occurred_at, e.payload, e.revision::text AS revision, e.supersedes::text AS supersedes
FROM events e
WHERE (e.transaction_id, e.position) > ($1::xid8, $2::bigint)
  AND e.transaction_id < pg_snapshot_xmin(pg_current_snapshot())
ORDER BY e.transaction_id, e.position
LIMIT $3`

export const FIRST_SAVE = `
INSERT INTO subscription_checkpoints (name, transaction_id, position) VALUES ($1, $2::xid8, $3::bigint)
ON CONFLICT (name) DO NOTHING RETURNING 1`

export const SAVE = `
UPDATE subscription_checkpoints SET transaction_id = $2::xid8, position = $3::bigint, updated_at = now()
WHERE name = $1 AND transaction_id = $4::xid8 AND position = $5::bigint RETURNING 1`

/** The reference subscriber: read a batch, save the checkpoint, until a batch comes back short. */
const rawCatchUp = async (query: Query, batch: number) => {
  let from: { tx: string; position: string } | null = null
  let total = 0
  while (true) {
    const rows = await query(READ, [from?.tx ?? "0", from?.position ?? "0", batch])
    total += rows.length
    const last = rows.at(-1)
    if (last === undefined) return total
    const to = { tx: String(last.transaction_id), position: String(last.position) }
    const saved =
      from === null
        ? await query(FIRST_SAVE, ["raw", to.tx, to.position])
        : await query(SAVE, ["raw", to.tx, to.position, from.tx, from.position])
    if (saved.length !== 1) throw new Error("raw checkpoint conflict")
    from = to
    if (rows.length < batch) return total
  }
}

export const withLog = async <A>(driver: Driver, events: number, f: (schema: string) => Promise<A>): Promise<A> => {
  const schema = schemaName("catchup")
  if (driver === "postgres") {
    await migratePg(schema)
    const { sql } = rawPg(schema, 1)
    for (let done = 0; done < events; done += 1000) await sql.unsafe(FILL, [Math.min(1000, events - done), done])
    await sql.unsafe("VACUUM ANALYZE events")
    await sql.end()
  } else {
    await migratePglite(schema)
    const { pg } = await rawPglite(schema)
    for (let done = 0; done < events; done += 1000) await pg.query(FILL, [Math.min(1000, events - done), done])
    await pg.exec("VACUUM ANALYZE events")
  }
  try {
    return await f(schema)
  } finally {
    if (driver === "postgres") await dropPg(schema)
    else await (await sharedPglite()).exec(`DROP SCHEMA ${schema} CASCADE`)
  }
}

/** Events per second catching up over `events` events in batches of `batch`, with a checkpoint per batch. */
export const catchUp = (driver: Driver, side: "sluice" | "raw", events: number, batch: number) =>
  withLog(driver, events, async (schema) => {
    if (side === "raw") {
      const { sql, query } =
        driver === "postgres" ? rawPg(schema, 1) : { sql: undefined, query: (await rawPglite(schema)).query }
      await query("SELECT 1", [])
      const start = performance.now()
      const total = await rawCatchUp(query, batch)
      const rate = events / ((performance.now() - start) / 1000)
      await sql?.end()
      if (total !== events) throw new Error(`raw catch-up read ${total} of ${events}`)
      return rate
    }
    const layer =
      driver === "postgres"
        ? PgEventStore.layer({ url: databaseUrl, schema, migrate: false, poolSize: 1 })
        : PgEventStore.layerPgliteInstance(await sharedPglite(), { schema, migrate: false })
    return Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const context = yield* Layer.build(layer)
          // Opens the pool's connection before the clock starts, as the reference does.
          yield* Context.get(context, SubscriptionStore).head
          const start = performance.now()
          const report = yield* Subscription.catchUp({
            name: "bench",
            batchSize: batch,
            handle: () => Effect.void
          }).pipe(Effect.provide(Layer.succeedContext(context)))
          const rate = events / ((performance.now() - start) / 1000)
          if (report.events !== events) return yield* Effect.die(new Error(`read ${report.events} of ${events}`))
          return rate
        })
      )
    )
  })
