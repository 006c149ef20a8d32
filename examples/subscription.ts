/**
 * The README's subscription example: a named subscriber with side effects outside the database,
 * checkpointed after each batch. Its test runs it on the in-memory store with TestClock.
 */
// #region subscription
import { type LoggedEvent, Subscription } from "@sluice/core"
import { Console, Effect } from "effect"

/** Prints one line per event; after a crash it may print the last batch again (at-least-once). */
const printBatch = (events: ReadonlyArray<LoggedEvent>) =>
  Effect.forEach(events, (e) => Console.log(`${e.event.event_type} ${e.event.entity_id}`), { discard: true })

/** Starts where its checkpoint says, catches up, then follows new events until the scope closes. */
export const auditTrail = Subscription.start({ name: "audit-trail", handle: printBatch, batchSize: 200 })
// #endregion subscription
