/**
 * The outbox entry, one per (event, route), and its state machine:
 *
 *   pending --claim--> pending+lease --deliver--> delivered
 *                                    --retry----> pending (attempts+1, later next_attempt_at)
 *                                    --dead-----> dead    (attempts+1, or at once when permanent)
 *                                    --release--> pending (no attempt counted: graceful shutdown)
 *   dead --replay--> pending (attempts reset; last_error and replay count kept)
 *
 * These pure functions are the reference semantics: the memory store runs them directly and the SQL
 * store mirrors them, and both are held to them by the EventStore contract suite.
 */
import { Data, DateTime, Result } from "effect"
import type { EventId } from "./Event.ts"

/** The store's id of an outbox row (a decimal string: a bigint sequence in PostgreSQL). */
export type OutboxId = string & { readonly OutboxId: unique symbol }

export type OutboxStatus = "pending" | "delivered" | "dead"

/** Who holds a row and until when. The token changes on every claim: it is the fencing token. */
export interface Lease {
  readonly owner: string
  readonly token: string
  readonly expires_at: DateTime.Utc
}

export interface OutboxEntry {
  readonly outbox_id: OutboxId
  readonly event_id: EventId
  readonly route: string
  readonly topic: string
  readonly status: OutboxStatus
  /** Publish attempts that ended in failure or success; the attempt in flight is `attempts + 1`. */
  readonly attempts: number
  readonly next_attempt_at: DateTime.Utc
  readonly lease: Lease | null
  readonly last_error: string | null
  /** Set on ordered routes: rows with the same key on the same route are delivered one after another. */
  readonly ordering_key: string | null
  readonly replays: number
  readonly created_at: DateTime.Utc
  readonly delivered_at: DateTime.Utc | null
}

/** A transition the state machine refuses, with the reason (used for fencing: a stale lease). */
export class TransitionRejectedError extends Data.TaggedError("TransitionRejectedError")<{
  readonly outboxId: OutboxId
  readonly reason: "not-pending" | "not-dead" | "leased" | "stale-lease" | "not-due"
}> {}

type Step = Result.Result<OutboxEntry, TransitionRejectedError>

const reject = (entry: OutboxEntry, reason: TransitionRejectedError["reason"]): Step =>
  Result.fail(new TransitionRejectedError({ outboxId: entry.outbox_id, reason }))

/** True while a lease is held: it exists and has not expired at `now`. */
export const isLeased = (entry: OutboxEntry, now: DateTime.Utc): boolean =>
  entry.lease !== null && DateTime.isGreaterThan(entry.lease.expires_at, now)

/** True when the row may be claimed at `now`: pending, due and not leased. */
export const isClaimable = (entry: OutboxEntry, now: DateTime.Utc): boolean =>
  entry.status === "pending" && DateTime.isLessThanOrEqualTo(entry.next_attempt_at, now) && !isLeased(entry, now)

export const claim = (entry: OutboxEntry, lease: Lease, now: DateTime.Utc): Step => {
  if (entry.status !== "pending") return reject(entry, "not-pending")
  if (isLeased(entry, now)) return reject(entry, "leased")
  if (DateTime.isGreaterThan(entry.next_attempt_at, now)) return reject(entry, "not-due")
  return Result.succeed({ ...entry, lease })
}

/** A result may only be recorded by the current, unexpired lease holder. */
const holds = (entry: OutboxEntry, token: string, now: DateTime.Utc): TransitionRejectedError["reason"] | undefined => {
  if (entry.status !== "pending") return "not-pending"
  if (entry.lease === null || entry.lease.token !== token || !isLeased(entry, now)) return "stale-lease"
  return undefined
}

export const deliver = (entry: OutboxEntry, token: string, now: DateTime.Utc): Step => {
  const problem = holds(entry, token, now)
  if (problem !== undefined) return reject(entry, problem)
  return Result.succeed({ ...entry, status: "delivered", attempts: entry.attempts + 1, lease: null, delivered_at: now })
}

export const retry = (
  entry: OutboxEntry,
  token: string,
  error: string,
  nextAttemptAt: DateTime.Utc,
  now: DateTime.Utc
): Step => {
  const problem = holds(entry, token, now)
  if (problem !== undefined) return reject(entry, problem)
  return Result.succeed({
    ...entry,
    attempts: entry.attempts + 1,
    next_attempt_at: nextAttemptAt,
    lease: null,
    last_error: error
  })
}

export const deadLetter = (entry: OutboxEntry, token: string, error: string, now: DateTime.Utc): Step => {
  const problem = holds(entry, token, now)
  if (problem !== undefined) return reject(entry, problem)
  return Result.succeed({ ...entry, status: "dead", attempts: entry.attempts + 1, lease: null, last_error: error })
}

/** Gives a claimed row back without counting an attempt (shutdown before publishing). */
export const release = (entry: OutboxEntry, token: string, now: DateTime.Utc): Step => {
  const problem = holds(entry, token, now)
  if (problem !== undefined) return reject(entry, problem)
  return Result.succeed({ ...entry, lease: null })
}

export const replay = (entry: OutboxEntry, now: DateTime.Utc): Step => {
  if (entry.status !== "dead") return reject(entry, "not-dead")
  return Result.succeed({
    ...entry,
    status: "pending",
    attempts: 0,
    next_attempt_at: now,
    lease: null,
    replays: entry.replays + 1
  })
}
