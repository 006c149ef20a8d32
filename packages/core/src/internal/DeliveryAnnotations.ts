/**
 * What the relay's log lines say about the rows they concern: one delivery, or the rows that will be
 * delivered again. Both read `envelope.event`, which a store may decode only then: they are for
 * failures, not for every delivered row.
 */
import type { Envelope } from "../Transport.ts"

/** The log annotations of one delivery: `outbox_id` is what `sluice dlq show/replay` take. */
export const deliveryAnnotations = (envelope: Envelope) => ({
  outbox_id: envelope.outbox_id,
  event_id: envelope.event.event_id,
  event_type: envelope.event.event_type,
  trace_id: envelope.event.trace_id,
  attempt: envelope.attempt,
  route: envelope.route,
  topic: envelope.topic
})

/** Ids listed in one log line at most; the count says how many there are in all. */
const listedIds = 20

/** The annotations naming rows that will be delivered again: a count and at most 20 of each id. */
export const redeliveryAnnotations = (envelopes: ReadonlyArray<Envelope>) => ({
  redelivered: envelopes.length,
  outbox_ids: envelopes.slice(0, listedIds).map((e) => e.outbox_id),
  event_ids: envelopes.slice(0, listedIds).map((e) => e.event.event_id)
})
