/**
 * The memory outbox's OutboxQueue: claims (per-entity ordering, paused routes, leases) and results,
 * each under the store's lock.
 */
import { DateTime, Duration, Effect, Result } from "effect"
import * as Outbox from "../Outbox.ts"
import { type Claimed, type ClaimOptions, type Completion, OutboxQueue } from "../OutboxQueue.ts"
import type { Rows } from "./MemoryOutbox.ts"
import { CurrentTransaction } from "./MemoryTransaction.ts"

export const make = (rows: Rows): OutboxQueue["Service"] => {
  const { outbox, pending, paused, eventOf, guarded, now, setEntry, notify, work } = rows
  let leaseCounter = 0

  const claimUnguarded = (options: ClaimOptions) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      const routes = options.routes === undefined ? undefined : new Set(options.routes)
      // Per-entity ordering: only the oldest pending row of each (route, key) may go out.
      const headOfKey = new Map<string, number>()
      const sortedPending = [...pending].sort((a, b) => a - b)
      for (const id of sortedPending) {
        const entry = outbox.get(id)!
        if (entry.ordering_key === null) continue
        const key = `${entry.route}\u0000${entry.ordering_key}`
        if (!headOfKey.has(key)) headOfKey.set(key, id)
      }
      const candidates = sortedPending
        .map((id) => outbox.get(id)!)
        .filter(
          (entry) =>
            (routes === undefined || routes.has(entry.route)) &&
            !paused.has(entry.route) &&
            Outbox.isClaimable(entry, at) &&
            (entry.ordering_key === null ||
              headOfKey.get(`${entry.route}\u0000${entry.ordering_key}`) === Number(entry.outbox_id))
        )
        .sort(
          (a, b) =>
            DateTime.toEpochMillis(a.next_attempt_at) - DateTime.toEpochMillis(b.next_attempt_at) ||
            Number(a.outbox_id) - Number(b.outbox_id)
        )
        .slice(0, Math.max(0, options.limit))
      const expires_at = DateTime.add(at, { milliseconds: Duration.toMillis(options.lease) })
      const claimed: Array<Claimed> = []
      // No yield from here on: a claim must be atomic with respect to other fibers' claims.
      for (const entry of candidates) {
        const lease = { owner: options.owner, token: `lease-${++leaseCounter}`, expires_at }
        const next = Result.getOrThrow(Outbox.claim(entry, lease, at))
        setEntry(undoLog, next)
        claimed.push({ entry: next, event: eventOf(next.event_id)! })
      }
      return claimed as ReadonlyArray<Claimed>
    })

  const completeUnguarded = (results: ReadonlyArray<Completion>) =>
    Effect.gen(function* () {
      const undoLog = yield* CurrentTransaction
      const at = yield* now
      const applied: Array<Outbox.OutboxId> = []
      const rejected: Array<Outbox.OutboxId> = []
      let frees = false
      for (const result of results) {
        const entry = outbox.get(Number(result.outboxId))
        if (entry === undefined) {
          rejected.push(result.outboxId)
          continue
        }
        const step =
          result._tag === "Delivered"
            ? Outbox.deliver(entry, result.token, at)
            : result._tag === "Retry"
              ? Outbox.retry(entry, result.token, result.error, DateTime.add(at, { milliseconds: result.delayMs }), at)
              : result._tag === "Dead"
                ? Outbox.deadLetter(entry, result.token, result.error, at)
                : Outbox.release(entry, result.token, at)
        if (Result.isFailure(step)) {
          rejected.push(result.outboxId)
        } else {
          setEntry(undoLog, step.success)
          applied.push(result.outboxId)
          // Only these can make a row claimable; a delivery on an unordered route makes no work.
          frees ||= result._tag === "Release" || result._tag === "Retry" || entry.ordering_key !== null
        }
      }
      if (frees && undoLog === undefined) notify()
      return { applied, rejected }
    })

  return OutboxQueue.of({
    claim: (options) => guarded(claimUnguarded(options)),
    complete: (results) => guarded(completeUnguarded(results)),
    waitForWork: work.wait
  })
}
