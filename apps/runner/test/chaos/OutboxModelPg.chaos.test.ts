/**
 * Model-based property test of the outbox state machine on PostgreSQL (a private cluster), the
 * idea of packages/core/test/OutboxModel.test.ts on a real clock: random sequences of appends,
 * claims by several workers (short or long leases), completions (delivered, retry now or much
 * later, dead, release; with current and stale tokens), lease expiries and replays are applied to
 * the store and to a small model, and after every step they must agree:
 * - a claim returns exactly the rows the model says are claimable, up to the limit, in
 *   (next_attempt_at, append) order;
 * - a result is applied if and only if its token is the row's current, unexpired lease token;
 * - attempts count applied results exactly; delivered rows never come back; no row is lost.
 * Time on a real clock, far from every boundary: "an hour passes" moves every lease expiry and
 * due time of the program's schema one hour into the past (the store compares them with the
 * database's now()); a short lease lasts 30 minutes, a long one 10 hours, a later retry is due in
 * 10 hours. No sleeping, so a run takes milliseconds and nothing depends on the machine's speed.
 */

import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Completion, EventStore, OutboxAdmin, type OutboxId, OutboxQueue, type OutboxStatus } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { PgEventStore } from "@sluice/store-postgres"
import { Duration, Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { type PrivatePg, startPrivatePg } from "./lib/privatePg.ts"

const Op = Schema.Struct({
  kind: Schema.Literals(["append", "claim", "deliver", "retry", "dead", "release", "advance", "replay"]),
  a: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 9 }))),
  b: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 9 })))
})
const Program = Schema.Array(Op).pipe(Schema.check(Schema.isMinLength(24), Schema.isMaxLength(48)))

const HOUR_MS = 3_600_000
const SHORT_LEASE_MS = HOUR_MS / 2
const LONG_LEASE_HOURS = 10
const LATER_HOURS = 10

interface ModelRow {
  status: OutboxStatus
  attempts: number
  replays: number
  /** The epoch (count of hours passed) from which the row is due. */
  dueFromEpoch: number
  token: string | null
  /** The epoch (count of advances) after which the lease is expired; Infinity for long leases. */
  expiresAfterEpoch: number
}

let pg: PrivatePg
let programs = 0
beforeAll(async () => {
  pg = await startPrivatePg()
}, 60_000)
afterAll(async () => {
  await pg?.destroy()
})

const runProgram = (program: typeof Program.Type, schema: string) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const queue = yield* OutboxQueue
    const admin = yield* OutboxAdmin
    const sql = yield* SqlClient.SqlClient
    const model = new Map<OutboxId, ModelRow>()
    const held: Array<{ readonly id: OutboxId; readonly token: string }> = []
    let epoch = 0
    let appended = 0
    const leased = (row: ModelRow) => row.token !== null && row.expiresAfterEpoch >= epoch
    const claimable = (row: ModelRow) => row.status === "pending" && row.dueFromEpoch <= epoch && !leased(row)

    for (const op of program) {
      switch (op.kind) {
        case "append": {
          const result = yield* store.append(
            yield* makeBatch(Array.from({ length: 1 + (op.a % 3) }, () => makeEvent()))
          )
          appended += result.outboxRows
          for (const row of yield* admin.listOutbox({ limit: 10_000 })) {
            if (!model.has(row.outbox_id))
              model.set(row.outbox_id, {
                status: "pending",
                attempts: 0,
                replays: 0,
                dueFromEpoch: epoch,
                token: null,
                expiresAfterEpoch: -1
              })
          }
          break
        }
        case "claim": {
          const limit = 1 + op.b
          const short = op.a % 2 === 0
          // next_attempt_at in microseconds, as the database orders it (DateTime keeps milliseconds:
          // a retry and an append in the same millisecond would tie in the model, not in the store).
          const micros = new Map(
            (yield* sql.unsafe<{ id: string; us: string }>(
              `SELECT outbox_id::text AS id, (extract(epoch FROM next_attempt_at) * 1000000)::bigint::text AS us FROM ${schema}.outbox`
            )).map((r) => [r.id, BigInt(r.us)] as const)
          )
          const expected = [...model.entries()]
            .filter(([, row]) => claimable(row))
            .sort(([x], [y]) => {
              const dx = micros.get(x)!
              const dy = micros.get(y)!
              return dx < dy ? -1 : dx > dy ? 1 : Number(x) - Number(y)
            })
            .slice(0, limit)
            .map(([id]) => id)
          const claimed = yield* queue.claim({
            owner: `w${op.a}`,
            limit,
            lease: Duration.millis(short ? SHORT_LEASE_MS : LONG_LEASE_HOURS * HOUR_MS)
          })
          expect(claimed.map((c) => c.entry.outbox_id)).toEqual(expected)
          for (const c of claimed) {
            const row = model.get(c.entry.outbox_id)!
            row.token = c.entry.lease!.token
            row.expiresAfterEpoch = short ? epoch : epoch + LONG_LEASE_HOURS - 1
            held.push({ id: c.entry.outbox_id, token: row.token })
          }
          break
        }
        case "deliver":
        case "retry":
        case "dead":
        case "release": {
          if (held.length === 0) break
          // Half the time one of the last claims (likely current), else any claim ever made (likely stale).
          const pick =
            op.a % 2 === 0 ? held.length - 1 - (op.b % Math.min(3, held.length)) : (op.a * 7 + op.b) % held.length
          const { id, token } = held[pick]!
          const row = model.get(id)!
          const valid = row.status === "pending" && row.token === token && leased(row)
          const later = op.b % 2 === 1
          const completion =
            op.kind === "deliver"
              ? Completion.Delivered({ outboxId: id, token })
              : op.kind === "retry"
                ? Completion.Retry({ outboxId: id, token, error: "503", delayMs: later ? LATER_HOURS * HOUR_MS : 0 })
                : op.kind === "dead"
                  ? Completion.Dead({ outboxId: id, token, error: "gave up" })
                  : Completion.Release({ outboxId: id, token })
          const report = yield* queue.complete([completion])
          expect(report.applied.length === 1, `${op.kind} with a ${valid ? "valid" : "stale"} token`).toBe(valid)
          if (valid) {
            row.token = null
            if (op.kind === "deliver") row.status = "delivered"
            if (op.kind === "dead") row.status = "dead"
            if (op.kind === "retry") row.dueFromEpoch = later ? epoch + LATER_HOURS : epoch
            if (op.kind !== "release") row.attempts++
          }
          break
        }
        case "advance":
          // An hour passes for this schema's outbox: every expiry and due time moves an hour back.
          yield* sql.unsafe(
            `UPDATE ${schema}.outbox SET next_attempt_at = next_attempt_at - interval '1 hour',
                    lease_expires_at = lease_expires_at - interval '1 hour'`
          )
          epoch++
          break
        case "replay": {
          const dead = [...model.values()].filter((row) => row.status === "dead")
          expect(yield* admin.replay({})).toBe(dead.length)
          for (const row of dead)
            Object.assign(row, { status: "pending", attempts: 0, dueFromEpoch: epoch, token: null })
          for (const row of dead) row.replays++
          break
        }
      }
      const rows = yield* admin.listOutbox({ limit: 10_000 })
      expect(rows.length).toBe(appended)
      for (const row of rows) {
        const expected = model.get(row.outbox_id)!
        expect([row.status, row.attempts, row.replays]).toEqual([expected.status, expected.attempts, expected.replays])
      }
    }
  })

describe("outbox state machine on PostgreSQL (model-based, real clock)", () => {
  it.live.prop(
    "random operation sequences keep PostgreSQL and the model in agreement",
    [Program],
    ([program]) => {
      programs += 1
      const schema = `model_${programs}`
      return runProgram(program, schema).pipe(
        Effect.provide(PgEventStore.layer({ url: pg.url, schema, poolSize: 2, applicationName: "chaos-model" }))
      )
    },
    {
      timeout: 80_000,
      arbitrary: {
        runs: Number(process.env.CHAOS_MODEL_RUNS ?? 40),
        seed: process.env.CHAOS_SEED ?? 1,
        maxShrinks: 10
      }
    }
  )
})
