/**
 * What the store contracts' cases share (EventStoreContract, StreamContract, OutboxQueueContract,
 * OutboxAdminContract): the harness a suite gives them (how time moves), the services they run on,
 * and small steps on the store (claim everything, wait for a waiter to wake).
 */
import { DateTime, Duration, Effect, Fiber } from "effect"
import type { EventStore } from "../EventStore.ts"
import type { OutboxId } from "../Outbox.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { OutboxQueue } from "../OutboxQueue.ts"
import * as check from "./check.ts"

/** How a suite moves time forward: TestClock for the memory store, real sleeps for a database. */
export interface Harness {
  readonly advance: (duration: Duration.Duration) => Effect.Effect<void>
  /** The current time as the store sees it (for computing next_attempt_at). */
  readonly now: Effect.Effect<DateTime.Utc>
  /**
   * The lease and retry delay of the cases that wait one out: long enough that no two consecutive
   * store calls of a case are ever that far apart (on real time, a busy machine can stall a few
   * hundred milliseconds), short enough to wait out. Other cases use leases that never expire.
   * @default 400 millis
   */
  readonly expiry?: Duration.Duration
}

/**
 * The services a store layer provides to the store contracts: one store's event log and outbox. A
 * case checks one port, but needs the others to make and see its rows (an outbox row comes from
 * an append).
 */
export type StoreServices = EventStore | OutboxQueue | OutboxAdmin

export interface ContractCase {
  readonly name: string
  readonly run: (harness: Harness) => Effect.Effect<void, unknown, StoreServices>
}

/** The lease of cases that do not wait for one to expire: it never does while a case runs. */
export const lease = Duration.minutes(10)

export const expiryOf = (harness: Harness): Duration.Duration => harness.expiry ?? Duration.millis(400)

export const claimAll = (owner = "w1", limit = 100, leaseFor = lease) =>
  OutboxQueue.use((queue) => queue.claim({ owner, limit, lease: leaseFor }))

export const tokenOf = (claimed: { readonly entry: { readonly lease: { readonly token: string } | null } }) =>
  claimed.entry.lease?.token ?? ""

/** Returns once any wake-up kept by the store is used up (a short wait, whatever the clock). */
export const settleSignals = (harness: Harness) =>
  Effect.gen(function* () {
    const wait = yield* Effect.forkChild(OutboxQueue.use((queue) => queue.waitForWork(Duration.millis(1))))
    yield* harness.advance(Duration.millis(10))
    yield* Fiber.join(wait)
  })

/**
 * Waits until `fiber` has ended (a waiter was woken), moving the harness's time 10 ms at a time, and
 * fails the case if it has not within `deadline` of that time. A real store's wake-up may take a
 * while on a busy machine; a generous deadline costs time only when the case fails.
 */
export const ended = (
  harness: Harness,
  fiber: Fiber.Fiber<unknown, unknown>,
  what: string,
  deadline: Duration.Duration = Duration.seconds(10)
) =>
  Effect.gen(function* () {
    const start = DateTime.toEpochMillis(yield* harness.now)
    const limit = Duration.toMillis(deadline)
    while (fiber.pollUnsafe() === undefined && DateTime.toEpochMillis(yield* harness.now) - start < limit)
      yield* harness.advance(Duration.millis(10))
    yield* check.that(fiber.pollUnsafe() !== undefined, `${what} (not within ${limit} ms)`)
  })

export const entryOf = (id: OutboxId) =>
  OutboxAdmin.use((admin) => admin.listOutbox({ outboxIds: [id] })).pipe(Effect.map((rows) => rows[0]!))
