/**
 * Model-based property test of the outbox state machine on the memory store: random sequences of
 * appends, claims (several workers), completions (delivered, retry, dead, release; with current and
 * stale tokens), time passing and replays are applied both to the store and to a small model, and
 * after every step the store must agree with the model:
 * - a claim returns exactly the rows the model says are claimable (pending, due, not leased), up to
 *   the limit, in (next_attempt_at, append) order;
 * - a result is applied if and only if its token is the row's current, unexpired lease token;
 * - attempts count applied results exactly; delivered rows never come back; no row is lost.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Schema } from "effect"
import { TestClock } from "effect/testing"
import { EventStore } from "../src/EventStore.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import type { OutboxId, OutboxStatus } from "../src/Outbox.ts"
import { OutboxAdmin } from "../src/OutboxAdmin.ts"
import { Completion, OutboxQueue } from "../src/OutboxQueue.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"

const Op = Schema.Struct({
  kind: Schema.Literals(["append", "claim", "deliver", "retry", "dead", "release", "advance", "replay"]),
  a: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 9 }))),
  b: Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 9 })))
})
const Program = Schema.Array(Op).pipe(Schema.check(Schema.isMinLength(10), Schema.isMaxLength(60)))

interface ModelRow {
  status: OutboxStatus
  attempts: number
  replays: number
  nextAt: number
  token: string | null
  expires: number
  order: number
}

const LEASE = 1_000

const runProgram = (program: typeof Program.Type) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const queue = yield* OutboxQueue
    const admin = yield* OutboxAdmin
    const model = new Map<OutboxId, ModelRow>()
    const held: Array<{ readonly id: OutboxId; readonly token: string }> = []
    let appended = 0
    const now = () => Clock.currentTimeMillis
    const claimable = (row: ModelRow, t: number) =>
      row.status === "pending" && row.nextAt <= t && (row.token === null || row.expires <= t)

    for (const op of program) {
      const t = yield* now()
      switch (op.kind) {
        case "append": {
          const result = yield* store.append(
            yield* makeBatch(Array.from({ length: 1 + (op.a % 3) }, () => makeEvent()))
          )
          appended += result.outboxRows
          const rows = yield* admin.listOutbox({ limit: 10_000 })
          for (const row of rows) {
            if (!model.has(row.outbox_id)) {
              model.set(row.outbox_id, {
                status: "pending",
                attempts: 0,
                replays: 0,
                nextAt: t,
                token: null,
                expires: 0,
                order: Number(row.outbox_id)
              })
            }
          }
          break
        }
        case "claim": {
          const limit = 1 + op.b
          const expected = [...model.entries()]
            .filter(([, row]) => claimable(row, t))
            .sort(([, x], [, y]) => x.nextAt - y.nextAt || x.order - y.order)
            .slice(0, limit)
            .map(([id]) => id)
          const claimed = yield* queue.claim({ owner: `w${op.a}`, limit, lease: Duration.millis(LEASE) })
          expect(claimed.map((c) => c.entry.outbox_id)).toEqual(expected)
          for (const c of claimed) {
            const row = model.get(c.entry.outbox_id)!
            row.token = c.entry.lease!.token
            row.expires = t + LEASE
            held.push({ id: c.entry.outbox_id, token: row.token })
          }
          break
        }
        case "deliver":
        case "retry":
        case "dead":
        case "release": {
          if (held.length === 0) break
          const { id, token } = held[(op.a * 7 + op.b) % held.length]!
          const row = model.get(id)!
          const valid = row.status === "pending" && row.token === token && row.expires > t
          const completion =
            op.kind === "deliver"
              ? Completion.Delivered({ outboxId: id, token })
              : op.kind === "retry"
                ? Completion.Retry({
                    outboxId: id,
                    token,
                    error: "503",
                    delayMs: op.b * 300
                  })
                : op.kind === "dead"
                  ? Completion.Dead({ outboxId: id, token, error: "gave up" })
                  : Completion.Release({ outboxId: id, token })
          const report = yield* queue.complete([completion])
          expect(report.applied.length === 1).toBe(valid)
          if (valid) {
            row.token = null
            if (op.kind === "deliver") row.status = "delivered"
            if (op.kind === "dead") row.status = "dead"
            if (op.kind === "retry") row.nextAt = t + op.b * 300
            if (op.kind !== "release") row.attempts++
          }
          break
        }
        case "advance":
          yield* TestClock.adjust(Duration.millis(op.b * 250))
          break
        case "replay": {
          const dead = [...model.values()].filter((row) => row.status === "dead")
          expect(yield* admin.replay({})).toBe(dead.length)
          for (const row of dead) Object.assign(row, { status: "pending", attempts: 0, nextAt: t, token: null })
          for (const row of dead) row.replays++
          break
        }
      }
      // After every step the store agrees with the model, row by row, and nothing is lost.
      const rows = yield* admin.listOutbox({ limit: 10_000 })
      expect(rows.length).toBe(appended)
      for (const row of rows) {
        const expected = model.get(row.outbox_id)!
        expect([row.status, row.attempts, row.replays]).toEqual([expected.status, expected.attempts, expected.replays])
      }
    }
  })

describe("outbox state machine (model-based)", () => {
  it.effect.prop("random operation sequences keep the store and the model in agreement", [Program], ([program]) =>
    runProgram(program).pipe(Effect.provide(layerMemory))
  )
})
