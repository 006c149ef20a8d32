/**
 * A projection catching up: a transactional subscription (`transactional: true`) whose handler
 * writes each batch's events into a read-model table in the same transaction as its checkpoint,
 * over a log of `events` events in batches of `batch`. The reference does the same on one
 * postgres.js connection: the gap-free read, then BEGIN, the same INSERT, the same checkpoint
 * compare-and-set, COMMIT. Small batches make it a row of transactions: it is where a per-commit
 * cost shows (a timer before COMMIT cost each 1 ms until 2026-12-07).
 */
import { type LoggedEvent, Subscription, SubscriptionStore } from "@sluice/core"
import { Context, Effect, Layer } from "effect"
import { SqlClient } from "effect/sql"
import { PgEventStore } from "../src/index.ts"
import { databaseUrl, rawPg } from "./harness.ts"
import { FIRST_SAVE, READ, SAVE, withLog } from "./subscriptions.ts"

const MODEL = "CREATE TABLE read_model (event_id uuid PRIMARY KEY, entity_id text NOT NULL, position bigint NOT NULL)"

/** The read model's INSERT (schema-qualified: the store's connections have no search_path). */
const insertInto = (schema: string) => `INSERT INTO ${schema}.read_model (event_id, entity_id, position)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[])`

/** Events per second a projection catches up over `events` events, one transaction per batch of `batch`. */
export const projectionCatchUp = (side: "sluice" | "raw", events: number, batch: number) =>
  withLog("postgres", events, async (schema) => {
    const INSERT = insertInto(schema)
    const setup = rawPg(schema, 1)
    await setup.sql.unsafe(MODEL)
    await setup.sql.end()
    const count = async () => {
      const check = rawPg(schema, 1)
      const [row] = await check.sql.unsafe<Array<{ n: number }>>("SELECT count(*)::int AS n FROM read_model")
      await check.sql.end()
      return row?.n ?? 0
    }
    let rate: number
    if (side === "raw") {
      const { sql, query } = rawPg(schema, 1)
      await query("SELECT 1", [])
      const start = performance.now()
      let from: { tx: string; position: string } | null = null
      while (true) {
        const rows = await query(READ, [from?.tx ?? "0", from?.position ?? "0", batch])
        const last = rows.at(-1)
        if (last === undefined) break
        const to = { tx: String(last.transaction_id), position: String(last.position) }
        const previous = from
        await sql.begin(async (tx) => {
          await tx.unsafe(
            INSERT,
            [
              rows.map((r) => String(r.event_id)),
              rows.map((r) => String(r.entity_id)),
              rows.map((r) => String(r.position))
            ],
            { prepare: true }
          )
          const saved =
            previous === null
              ? await tx.unsafe(FIRST_SAVE, ["raw", to.tx, to.position], { prepare: true })
              : await tx.unsafe(SAVE, ["raw", to.tx, to.position, previous.tx, previous.position], { prepare: true })
          if (saved.length !== 1) throw new Error("raw checkpoint conflict")
        })
        from = to
        if (rows.length < batch) break
      }
      rate = events / ((performance.now() - start) / 1000)
      await sql.end()
    } else {
      const layer = PgEventStore.layer({ url: databaseUrl, schema, migrate: false, poolSize: 1 })
      rate = await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const context = yield* Layer.build(layer)
            const sql = Context.get(context, SqlClient.SqlClient)
            yield* Context.get(context, SubscriptionStore).head
            const handle = (logged: ReadonlyArray<LoggedEvent>) =>
              sql.unsafe(INSERT, [
                logged.map((e) => e.event.event_id),
                logged.map((e) => e.event.entity_id),
                logged.map((e) => String(e.log_position.position))
              ])
            const start = performance.now()
            yield* Subscription.catchUp({ name: "bench", batchSize: batch, transactional: true, handle }).pipe(
              Effect.provide(Layer.succeedContext(context))
            )
            return events / ((performance.now() - start) / 1000)
          })
        )
      )
    }
    const stored = await count()
    if (stored !== events) throw new Error(`the read model holds ${stored} of ${events} events`)
    return rate
  })
