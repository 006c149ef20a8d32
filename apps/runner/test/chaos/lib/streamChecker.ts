/**
 * Chaos harness: the history checker for a stream transport (JetStream). There is no receiver to
 * record requests: the stream itself is the history. Read back whole after the run, it must hold
 * every committed event exactly once, and nothing else:
 *
 * - a committed event missing from the stream is LOST, whatever its outbox row says;
 * - an event stored more than once is a DUPLICATE in the stream (the stream's duplicate window,
 *   keyed by `Nats-Msg-Id`, must absorb every redelivery, so none is allowed);
 * - a dead letter or a row still pending is a broken promise (the broker stayed available: every
 *   event should have been delivered);
 * - a message that is not a committed event (rolled back, unknown, or without an id) must not be
 *   there, and a message's `Nats-Msg-Id` header must name the event of its body;
 * - on an ordered route (`ordered`), each entity's events are stored in their order (by their
 *   first copy: a resend of a stored event is dropped, so it cannot reorder anything).
 */
import type { CommittedRow } from "./checker.ts"

export interface StreamMessage {
  readonly seq: number
  readonly subject: string
  /** The `Nats-Msg-Id` header, or null. */
  readonly msgId: string | null
  /** The `event_id` of the JSON body, or null when the body is not an event. */
  readonly eventId: string | null
}

export interface StreamCounts {
  readonly committed: number
  /** Messages in the stream. */
  readonly inStream: number
  /** Messages beyond the first for an event stored more than once. */
  readonly duplicatesInStream: number
  /** Committed events not in the stream. */
  readonly lost: number
  readonly delivered: number
  readonly deadLettered: number
}

export interface StreamVerdict {
  readonly counts: StreamCounts
  readonly violations: ReadonlyArray<string>
}

const MAX_LINES = 25

export const checkStream = (
  rows: ReadonlyArray<CommittedRow>,
  messages: ReadonlyArray<StreamMessage>,
  options: { readonly rolledBack: ReadonlySet<string>; readonly ordered?: boolean }
): StreamVerdict => {
  const violations: Array<string> = []
  const seqsOf = new Map<string, Array<number>>()
  for (const m of messages) {
    if (m.msgId !== null && m.eventId !== null && m.msgId !== m.eventId)
      violations.push(`message #${m.seq}: Nats-Msg-Id ${m.msgId} but the body's event_id is ${m.eventId}`)
    const id = m.msgId ?? m.eventId
    if (id === null) {
      violations.push(`message #${m.seq} on ${m.subject} has neither a Nats-Msg-Id nor an event_id`)
      continue
    }
    seqsOf.set(id, [...(seqsOf.get(id) ?? []), m.seq])
  }
  const committed = new Set(rows.map((r) => r.event_id))
  for (const [id, seqs] of seqsOf) {
    if (committed.has(id)) continue
    violations.push(
      options.rolledBack.has(id)
        ? `event ${id} was rolled back but is in the stream (#${seqs.join(", #")})`
        : `message(s) #${seqs.join(", #")} carry ${id}, which was never committed`
    )
  }
  let lost = 0
  let duplicatesInStream = 0
  let delivered = 0
  let deadLettered = 0
  for (const row of rows) {
    const seqs = seqsOf.get(row.event_id) ?? []
    if (row.status === "delivered") delivered += 1
    if (row.status === "dead") {
      deadLettered += 1
      violations.push(`dead letter ${row.event_id} should have been delivered: ${row.last_error ?? "no reason"}`)
    } else if (row.status !== "delivered")
      violations.push(`${row.event_id} is ${row.status ?? "without an outbox row"} after ${row.attempts} attempts`)
    if (seqs.length === 0) {
      lost += 1
      violations.push(`LOST ${row.event_id}: status ${row.status ?? "no outbox row"}, not in the stream`)
    } else if (seqs.length > 1) {
      duplicatesInStream += seqs.length - 1
      violations.push(`DUPLICATE ${row.event_id} stored ${seqs.length} times (#${seqs.join(", #")})`)
    }
  }
  if (options.ordered === true) {
    // Per entity, the earlier event stored latest so far: a later event must come after it.
    const latest = new Map<string, { readonly seq: number; readonly row: CommittedRow }>()
    for (const row of [...rows].sort((a, b) => a.position - b.position)) {
      const seqs = seqsOf.get(row.event_id)
      if (seqs === undefined) continue
      const seq = Math.min(...seqs)
      const before = latest.get(row.entity_id)
      if (before !== undefined && before.seq > seq)
        violations.push(
          `order broken for entity ${row.entity_id}: ${row.event_id} (position ${row.position}) stored at #${seq}, before ${before.row.event_id} (position ${before.row.position}) at #${before.seq}`
        )
      else latest.set(row.entity_id, { seq, row })
    }
  }
  const shown =
    violations.length > MAX_LINES
      ? [...violations.slice(0, MAX_LINES), `... and ${violations.length - MAX_LINES} more`]
      : violations
  return {
    counts: {
      committed: rows.length,
      inStream: messages.length,
      duplicatesInStream,
      lost,
      delivered,
      deadLettered
    },
    violations: shown
  }
}

/** The stream's line of figures, as `pnpm chaos` prints it under the scenario's summary. */
export const streamLine = (c: StreamCounts): string =>
  `stream: committed ${c.committed} / in stream ${c.inStream} / duplicates in stream ${c.duplicatesInStream} / lost ${c.lost}`
