/**
 * A place in the global event log, as subscriptions read it: the pair (transaction id, position).
 *
 * Why a pair: a position is taken when an event is inserted, and transactions commit in any order,
 * so a transaction holding position 10 can commit after the one holding 11. A reader that resumes
 * after "position 11" then skips 10 for good. Stores that have this problem (PostgreSQL) record the
 * writing transaction's id with each event, hand out only events of transactions that have all
 * ended, and order by (transaction id, position): resuming after a pair never skips anything. Stores
 * whose positions commit in order (the memory store) use transaction id 0 throughout.
 */

export interface LogPosition {
  /** The id of the transaction that wrote the event (PostgreSQL's xid8; 0 where it is not recorded). */
  readonly transaction_id: number
  /** The event's global position. */
  readonly position: number
}

/** Before every event: where a subscriber without a checkpoint starts. */
export const start: LogPosition = { transaction_id: 0, position: 0 }

/** Negative when `a` comes before `b` in the log, 0 when equal, positive after. */
export const compare = (a: LogPosition, b: LogPosition): number =>
  a.transaction_id - b.transaction_id || a.position - b.position

/** Whether `a` comes strictly after `b`. */
export const isAfter = (a: LogPosition, b: LogPosition): boolean => compare(a, b) > 0

export const equals = (a: LogPosition, b: LogPosition): boolean => compare(a, b) === 0

/** `transaction_id/position`, for logs and `sluice status`. */
export const format = (p: LogPosition): string => `${p.transaction_id}/${p.position}`
