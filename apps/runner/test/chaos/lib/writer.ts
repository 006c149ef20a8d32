/**
 * Chaos harness: the in-process writer. Appends events through the PostgreSQL EventStore inside the
 * writer's own `sql.withTransaction` (the outbox pattern's business write), one entity per writer
 * loop so each entity's events have a well-defined order. A transaction may be slow (held open
 * before COMMIT) or rolled back on purpose; the writer remembers what it rolled back. A transaction
 * that fails for another reason (connection cut, server restarting) is retried later: whether it
 * committed is read from the database, never assumed.
 */
import { type Event, type EventId, EventStore, type TraceId } from "@sluice/core"
import { PgEventStore } from "@sluice/store-postgres"
import { DateTime, Effect, ManagedRuntime } from "effect"
import { SqlClient } from "effect/sql"
import { ROUTE, SCHEMA, TOPIC } from "./fleet.ts"
import { type Rng, rng, sleep } from "./random.ts"

export interface WriterPlan {
  readonly entities: number
  /** Stop after this many transactions per entity. */
  readonly transactionsPerEntity: number
  /** Events per transaction: 1..maxEvents. */
  readonly maxEvents: number
  /** Probability that a transaction is rolled back on purpose. */
  readonly rollbackRate: number
  /** Probability that a transaction is held open `slowMs` before it commits or rolls back. */
  readonly slowRate: number
  readonly slowMs: number
  /** Pause between two transactions of one entity. */
  readonly pauseMs: number
  /**
   * Append inside the writer's own `sql.withTransaction` (the outbox pattern's business write).
   * False: a bare `append` (one statement, its own implicit transaction). @default true
   */
  readonly ownTransaction?: boolean
}

export interface Writer {
  readonly rolledBack: Set<string>
  /** Transactions that failed for a reason other than a deliberate rollback. */
  readonly failures: { count: number; last: string }
  readonly committedTransactions: { count: number }
  /** Runs the plan; resolves when every entity is done or `stop()` was called. */
  readonly run: (plan: WriterPlan, random: Rng, prefix?: string) => Promise<void>
  readonly stop: () => void
  readonly close: () => Promise<void>
}

/** A version-4 UUID drawn from `random`. */
const uuidV4 = (random: Rng): string => {
  const bytes = Array.from({ length: 16 }, () => Math.floor(random() * 256))
  bytes[6] = (bytes[6]! & 0x0f) | 0x40
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const hex = bytes.map((b) => b.toString(16).padStart(2, "0")).join("")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

class Rollback {
  readonly _tag = "Rollback"
}

export const makeWriter = async (url: string): Promise<Writer> => {
  const runtime = ManagedRuntime.make(
    PgEventStore.layer({ url, schema: SCHEMA, poolSize: 6, applicationName: "chaos-writer" })
  )
  await runtime.runPromise(Effect.void)
  const rolledBack = new Set<string>()
  const issued = new Set<string>()
  const failures = { count: 0, last: "" }
  const committedTransactions = { count: 0 }
  let stopped = false

  const transaction = (
    entity: string,
    n: number,
    eventIds: ReadonlyArray<string>,
    slowMs: number,
    rollback: boolean,
    own: boolean
  ) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const store = yield* EventStore
      const events: Array<Event> = eventIds.map((id, i) => ({
        event_id: id as EventId,
        event_type: "chaos.written",
        entity_type: "chaos",
        entity_id: entity,
        trace_id: id.replace(/-/g, "") as TraceId,
        schema_version: 1,
        occurred_at: DateTime.makeUnsafe(Date.now()),
        payload: { entity, n: n + i }
      }))
      const ids = events.map((e) => e.event_id)
      const append = store.append({
        raw: null,
        events,
        outbox: ids.map((event_id) => ({ event_id, route: ROUTE, topic: TOPIC, ordering_key: `chaos:${entity}` }))
      })
      if (!own) return yield* Effect.result(append)
      return yield* sql
        .withTransaction(
          Effect.gen(function* () {
            yield* append
            if (slowMs > 0) yield* Effect.sleep(slowMs)
            if (rollback) {
              for (const id of ids) rolledBack.add(id)
              return yield* Effect.fail(new Rollback())
            }
          })
        )
        .pipe(Effect.result)
    })

  const loop = async (entity: string, plan: WriterPlan, random: Rng) => {
    let n = 0
    for (let t = 0; t < plan.transactionsPerEntity && !stopped; t++) {
      const size = 1 + Math.floor(random() * plan.maxEvents)
      const slow = random() < plan.slowRate ? plan.slowMs : 0
      const rollback = random() < plan.rollbackRate
      // Ids from the seeded stream: with a seed, the same events (and the receiver's answers to them).
      const ids = Array.from({ length: size }, () => {
        let id = uuidV4(random)
        while (issued.has(id)) id = uuidV4(random) // never reuse an id: "rolled back" must stay unambiguous
        issued.add(id)
        return id
      })
      const result = await runtime
        .runPromise(transaction(entity, n, ids, slow, rollback, plan.ownTransaction ?? true))
        .then(
          (r) =>
            r._tag === "Success" ? "committed" : r.failure instanceof Rollback ? "rolled back" : String(r.failure),
          (defect: unknown) => `defect: ${String(defect)}`
        )
      if (result === "committed") committedTransactions.count += 1
      else if (result !== "rolled back") {
        failures.count += 1
        failures.last = result
        await sleep(100)
      }
      n += size
      if (plan.pauseMs > 0) await sleep(plan.pauseMs * (0.5 + random()))
    }
  }

  return {
    rolledBack,
    failures,
    committedTransactions,
    run: async (plan, random, prefix = "e") => {
      stopped = false
      const seeds = Array.from({ length: plan.entities }, () => Math.floor(random() * 2 ** 31))
      await Promise.all(
        seeds.map((s, i) => {
          const own = rng(s)
          return loop(`${prefix}${i}`, plan, own)
        })
      )
    },
    stop: () => {
      stopped = true
    },
    close: () => runtime.dispose()
  }
}
