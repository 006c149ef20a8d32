/**
 * Model-based check of the outbox state machine, for any store: a random program of appends, claims
 * by several workers, completions (delivered, retry, dead, release; with current and stale tokens),
 * time passing and replays is applied both to the store and to a small model, and after every step
 * the store must agree with the model:
 * - a claim returns exactly the rows the model says are claimable (pending, due, not leased), up to
 *   the limit, in (next_attempt_at, append) order;
 * - a result is applied if and only if its token is the row's current, unexpired lease token;
 * - attempts count applied results exactly; delivered rows never come back; no row is lost.
 * How time passes is the store's (`ModelClock`): TestClock for a store that reads the Clock; a
 * database that compares with its own now() moves the rows' times back instead.
 */
import { Duration, Effect, Schema } from "effect"
import { EventStore } from "../EventStore.ts"
import type { OutboxId, OutboxStatus } from "../Outbox.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { Completion, OutboxQueue } from "../OutboxQueue.ts"
import type { StoreServices } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

const Digit = Schema.Int.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 9 })))

/** One step of a program; `a` and `b` choose the worker, the row, the limit, the lease or the delay. */
export const Op = Schema.Struct({
  kind: Schema.Literals(["append", "claim", "deliver", "retry", "dead", "release", "advance", "replay"]),
  a: Digit,
  b: Digit
})

/** A program: its arbitrary (`it.effect.prop(name, [Program], ...)`) generates random ones. */
export const Program = Schema.Array(Op).pipe(Schema.check(Schema.isMinLength(10), Schema.isMaxLength(60)))
export type Program = typeof Program.Type

/** How time moves for a store, in the model's milliseconds. */
export interface ModelClock<R = never> {
  /** The model's time now: due times and lease expiries are compared with it. */
  readonly now: Effect.Effect<number, unknown, R>
  /** An `advance` step with choice `b` (0 to 9): time moves forward for the store and for `now`. */
  readonly advance: (b: number) => Effect.Effect<void, unknown, R>
  /** The lease of a claim with choice `a` (0 to 9). */
  readonly lease: (a: number) => Duration.Duration
  /** The delay of a retry with choice `b` (0 to 9). */
  readonly retryDelay: (b: number) => Duration.Duration
  /**
   * Every row's due time as the store orders claims, where the store's precision is finer than the
   * model's (a database's microseconds: a retry and an append in the same millisecond do not tie).
   * Without it, the model's own due times, ties by append order.
   */
  readonly dueTimes?: Effect.Effect<ReadonlyMap<OutboxId, bigint>, unknown, R>
}

interface ModelRow {
  status: OutboxStatus
  attempts: number
  replays: number
  nextAt: number
  token: string | null
  expires: number
}

/** Applies `program` to the store and to the model, checking after every step that they agree. */
export const run = <R>(program: Program, clock: ModelClock<R>): Effect.Effect<void, unknown, StoreServices | R> =>
  Effect.gen(function* () {
    const store = yield* EventStore
    const queue = yield* OutboxQueue
    const admin = yield* OutboxAdmin
    const model = new Map<OutboxId, ModelRow>()
    const held: Array<{ readonly id: OutboxId; readonly token: string }> = []
    let appended = 0
    const leased = (row: ModelRow, t: number) => row.token !== null && row.expires > t
    const claimable = (row: ModelRow, t: number) => row.status === "pending" && row.nextAt <= t && !leased(row, t)

    for (const [step, op] of program.entries()) {
      const t = yield* clock.now
      const at = `step ${step} (${op.kind} ${op.a} ${op.b})`
      switch (op.kind) {
        case "append": {
          const result = yield* store.append(
            yield* makeBatch(Array.from({ length: 1 + (op.a % 3) }, () => makeEvent()))
          )
          appended += result.outboxRows
          for (const row of yield* admin.listOutbox({ limit: 10_000 }))
            if (!model.has(row.outbox_id))
              model.set(row.outbox_id, {
                status: "pending",
                attempts: 0,
                replays: 0,
                nextAt: t,
                token: null,
                expires: 0
              })
          break
        }
        case "claim": {
          const limit = 1 + op.b
          const lease = clock.lease(op.a)
          const due = clock.dueTimes === undefined ? undefined : yield* clock.dueTimes
          const key = (id: OutboxId) => due?.get(id) ?? BigInt(model.get(id)!.nextAt)
          const expected = [...model.entries()]
            .filter(([, row]) => claimable(row, t))
            .map(([id]) => id)
            .sort((x, y) => {
              const [kx, ky] = [key(x), key(y)]
              return kx < ky ? -1 : kx > ky ? 1 : Number(x) - Number(y)
            })
            .slice(0, limit)
          const claimed = yield* queue.claim({ owner: `w${op.a}`, limit, lease })
          yield* check.equal(
            claimed.map((c) => c.entry.outbox_id),
            expected,
            `${at}: the claimable rows, due first`
          )
          for (const c of claimed) {
            const row = model.get(c.entry.outbox_id)!
            row.token = c.entry.lease!.token
            row.expires = t + Duration.toMillis(lease)
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
          const valid = row.status === "pending" && row.token === token && leased(row, t)
          const delay = Duration.toMillis(clock.retryDelay(op.b))
          const completion =
            op.kind === "deliver"
              ? Completion.Delivered({ outboxId: id, token })
              : op.kind === "retry"
                ? Completion.Retry({ outboxId: id, token, error: "503", delayMs: delay })
                : op.kind === "dead"
                  ? Completion.Dead({ outboxId: id, token, error: "gave up" })
                  : Completion.Release({ outboxId: id, token })
          const report = yield* queue.complete([completion])
          yield* check.equal(
            report.applied.length === 1,
            valid,
            `${at}: applied with a ${valid ? "valid" : "stale"} token`
          )
          if (valid) {
            row.token = null
            if (op.kind === "deliver") row.status = "delivered"
            if (op.kind === "dead") row.status = "dead"
            if (op.kind === "retry") row.nextAt = t + delay
            if (op.kind !== "release") row.attempts++
          }
          break
        }
        case "advance":
          yield* clock.advance(op.b)
          break
        case "replay": {
          const dead = [...model.values()].filter((row) => row.status === "dead")
          yield* check.equal(yield* admin.replay({}), dead.length, `${at}: rows replayed`)
          for (const row of dead) Object.assign(row, { status: "pending", attempts: 0, nextAt: t, token: null })
          for (const row of dead) row.replays++
          break
        }
      }
      // After every step the store agrees with the model, row by row, and nothing is lost.
      const rows = yield* admin.listOutbox({ limit: 10_000 })
      yield* check.equal(rows.length, appended, `${at}: rows in the outbox`)
      for (const row of rows) {
        const expected = model.get(row.outbox_id)!
        yield* check.equal(
          [row.status, row.attempts, row.replays],
          [expected.status, expected.attempts, expected.replays],
          `${at}: row ${row.outbox_id} [status, attempts, replays]`
        )
      }
    }
  })
