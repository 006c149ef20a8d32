/**
 * Chaos harness: the history checker. Given what the database committed (events and their outbox
 * rows), what the writers rolled back, and what the webhook receiver saw (History), it checks
 * Sluice's promises and counts: committed, delivered, duplicates, dead-lettered, lost.
 *
 * - every committed event is delivered (a 2xx reached the relay) or dead with a reason; a row
 *   still pending, or recorded as delivered without any 2xx at the receiver, is LOST;
 * - nothing from a rolled-back transaction is stored or sent; nothing unknown is sent;
 * - a duplicate (a second acknowledged delivery) shares the event id and a fault (kill, freeze,
 *   restart...) overlaps the time between the two requests, or a relay reported a refused stale
 *   result after the first one; at most `maxDuplicates` of them;
 * - per-entity order on ordered routes: no request for an entity's event arrives before every
 *   earlier event of that entity was acknowledged or dead-lettered;
 * - attempts: a dead row has exactly `maxAttempts` attempts (or died of a permanent failure at its
 *   last attempt); with `exactAttempts` (no process lost an attempt in flight) the requests of each
 *   event carry attempts 1..n in order and the row says n.
 */
import type { History, Receipt } from "./history.ts"

export interface CommittedRow {
  readonly event_id: string
  readonly entity_id: string
  readonly position: number
  readonly status: "pending" | "delivered" | "dead" | null
  readonly attempts: number
  readonly last_error: string | null
}

export interface CheckOptions {
  readonly maxAttempts: number
  readonly ordered: boolean
  readonly exactAttempts: boolean
  /** Upper bound on duplicates (0 when no fault may cause one). */
  readonly maxDuplicates: number
  /** Ids of events whose transaction was rolled back on purpose. */
  readonly rolledBack: ReadonlySet<string>
}

export interface Counts {
  readonly committed: number
  readonly delivered: number
  readonly duplicates: number
  readonly deadLettered: number
  readonly lost: number
  readonly requests: number
}

export interface Verdict {
  readonly counts: Counts
  /** Every broken promise, one line each (empty when the history is correct). */
  readonly violations: ReadonlyArray<string>
}

const MAX_LINES = 25

/** What a dead letter's reason must say, given the receiver's last answer (HTTP transport wording). */
const reasonOf: Partial<Record<string, string>> = {
  retryable: "HTTP 503",
  "retry-after": "HTTP 429",
  timeout: "no answer within",
  permanent: "HTTP 422"
}

export const check = (rows: ReadonlyArray<CommittedRow>, history: History, options: CheckOptions): Verdict => {
  const violations: Array<string> = []
  const byEvent = new Map<string, Array<Receipt>>()
  for (const receipt of history.receipts) {
    const list = byEvent.get(receipt.event_id) ?? []
    list.push(receipt)
    byEvent.set(receipt.event_id, list)
  }
  const committed = new Map(rows.map((row) => [row.event_id, row]))
  let delivered = 0
  let deadLettered = 0
  let lost = 0
  let duplicates = 0

  for (const id of options.rolledBack) {
    if (committed.has(id)) violations.push(`event ${id} was rolled back but is stored`)
    if (byEvent.has(id)) violations.push(`event ${id} was rolled back but was sent ${byEvent.get(id)?.length} time(s)`)
  }
  for (const [id, receipts] of byEvent) {
    if (!committed.has(id) && !options.rolledBack.has(id))
      violations.push(`the receiver got ${receipts.length} request(s) for ${id}, which was never committed`)
  }

  const faults = history.markers.filter((m) => m.kind !== "note")
  for (const row of rows) {
    const receipts = byEvent.get(row.event_id) ?? []
    const acked = receipts.filter((r) => r.ackSeq !== null)
    if (row.status === "delivered") {
      delivered += 1
      if (acked.length === 0) {
        lost += 1
        violations.push(`LOST ${row.event_id}: recorded as delivered but the receiver never acknowledged it`)
      }
    } else if (row.status === "dead") {
      deadLettered += 1
      if (row.last_error === null || row.last_error === "") violations.push(`dead letter ${row.event_id} has no reason`)
      const permanent = row.last_error?.startsWith("permanent") ?? false
      const last = receipts.reduce<Receipt | undefined>(
        (a, r) => (a === undefined || r.attempt > a.attempt ? r : a),
        undefined
      )
      if (permanent) {
        if (last?.answer !== "permanent" || last.attempt !== row.attempts)
          violations.push(
            `dead letter ${row.event_id}: permanent at attempt ${row.attempts}, receiver saw ${last?.answer} at ${last?.attempt}`
          )
      } else {
        if (row.attempts !== options.maxAttempts)
          violations.push(
            `dead letter ${row.event_id} after ${row.attempts} attempts, expected exactly ${options.maxAttempts}`
          )
        const expected = last === undefined ? undefined : reasonOf[last.answer ?? "ok"]
        if (expected !== undefined && !(row.last_error ?? "").includes(expected))
          violations.push(
            `dead letter ${row.event_id}: reason "${row.last_error}" does not name its last failure (${expected})`
          )
      }
      if (acked.length > 0) violations.push(`dead letter ${row.event_id} was acknowledged by the receiver`)
    } else {
      lost += 1
      violations.push(`LOST ${row.event_id}: status ${row.status ?? "no outbox row"} after ${row.attempts} attempts`)
    }
    if (row.attempts > options.maxAttempts)
      violations.push(`${row.event_id} has ${row.attempts} attempts, more than the ceiling ${options.maxAttempts}`)

    if (acked.length > 1) {
      duplicates += acked.length - 1
      for (let i = 1; i < acked.length; i++) {
        const first = acked[0]!
        const again = acked[i]!
        const explained = faults.some((m) =>
          // A refused late result explains any duplicate of a delivery that started before it (it
          // is refused only after the takeover, so it may come after the redelivery). A failed
          // batch (its results not recorded) is logged at once, before its lease can run out: it
          // must fall between the two deliveries, as must every other fault.
          m.kind === "stale-completion" ? m.seq > first.seq : m.seq < again.seq && (m.endSeq ?? m.seq) > first.seq
        )
        if (!explained)
          violations.push(
            `duplicate delivery of ${row.event_id} (requests #${first.seq} and #${again.seq}) with no fault between them`
          )
      }
    }
    if (options.exactAttempts && row.status !== "pending" && row.status !== null) {
      const headers = receipts.map((r) => r.attempt)
      const expected = Array.from({ length: row.attempts }, (_, i) => i + 1)
      if (headers.join(",") !== expected.join(","))
        violations.push(
          `${row.event_id}: ${row.attempts} attempts recorded, requests carried attempts [${headers.join(",")}]`
        )
    } else if (row.status === "delivered" && acked.length > 0 && !acked.some((r) => r.attempt === row.attempts)) {
      violations.push(
        `${row.event_id}: recorded delivered at attempt ${row.attempts}, acknowledged attempts [${acked.map((r) => r.attempt).join(",")}]`
      )
    }
  }

  if (duplicates > options.maxDuplicates)
    violations.push(`${duplicates} duplicate deliveries, more than the ${options.maxDuplicates} the faults can explain`)

  if (options.ordered) {
    const entities = new Map<string, Array<CommittedRow>>()
    for (const row of rows) entities.set(row.entity_id, [...(entities.get(row.entity_id) ?? []), row])
    for (const [entity, list] of entities) {
      const sorted = [...list].sort((a, b) => a.position - b.position)
      sorted.forEach((row, k) => {
        for (const receipt of byEvent.get(row.event_id) ?? []) {
          for (const earlier of sorted.slice(0, k)) {
            const before = byEvent.get(earlier.event_id) ?? []
            const ackedBefore = before.some((r) => r.ackSeq !== null && r.ackSeq < receipt.seq)
            const deadBefore = earlier.status === "dead" && before.every((r) => (r.doneSeq ?? Infinity) < receipt.seq)
            if (!ackedBefore && !deadBefore) {
              violations.push(
                `order broken for entity ${entity}: ${row.event_id} (position ${row.position}) sent at #${receipt.seq} before ${earlier.event_id} (position ${earlier.position}) was delivered`
              )
              return
            }
          }
        }
      })
    }
  }

  const shown =
    violations.length > MAX_LINES
      ? [...violations.slice(0, MAX_LINES), `... and ${violations.length - MAX_LINES} more`]
      : violations
  return {
    counts: { committed: rows.length, delivered, duplicates, deadLettered, lost, requests: history.receipts.length },
    violations: shown
  }
}
