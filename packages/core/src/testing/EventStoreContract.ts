/**
 * The EventStore contract: the behaviour every adapter (memory, PGlite, PostgreSQL) must show.
 *
 * Cases are plain Effects so the suite runs under any test runner and runtime; `@sluice/core/vitest`
 * wraps them as `suite(name, layer, harness)`. Each case needs a fresh, empty store.
 */
import { DateTime, Duration, Effect, Fiber, Option } from "effect"
import { Completion, EventStore } from "../EventStore.ts"
import type { OutboxId } from "../Outbox.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"
import * as StorableTextContract from "./StorableTextContract.ts"

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

export interface ContractCase {
  readonly name: string
  readonly run: (harness: Harness) => Effect.Effect<void, unknown, EventStore>
}

/** The lease of cases that do not wait for one to expire: it never does while a case runs. */
const lease = Duration.minutes(10)

const expiryOf = (harness: Harness): Duration.Duration => harness.expiry ?? Duration.millis(400)

const claimAll = (owner = "w1", limit = 100, leaseFor = lease) =>
  EventStore.use((store) => store.claim({ owner, limit, lease: leaseFor }))

const tokenOf = (claimed: { readonly entry: { readonly lease: { readonly token: string } | null } }) =>
  claimed.entry.lease?.token ?? ""

/** Returns once any wake-up kept by the store is used up (a short wait, whatever the clock). */
const settleSignals = (harness: Harness) =>
  Effect.gen(function* () {
    const wait = yield* Effect.forkChild(EventStore.use((store) => store.waitForWork(Duration.millis(1))))
    yield* harness.advance(Duration.millis(10))
    yield* Fiber.join(wait)
  })

/**
 * Waits until `fiber` has ended (a waiter was woken), moving the harness's time 10 ms at a time, and
 * fails the case if it has not within `deadline` of that time. A real store's wake-up may take a
 * while on a busy machine; a generous deadline costs time only when the case fails.
 */
const ended = (
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

const entryOf = (id: OutboxId) =>
  EventStore.use((store) => store.listOutbox({ outbox_ids: [id] })).pipe(Effect.map((rows) => rows[0]!))

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "append stores the raw payload, the events in position order and one outbox row per route",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const events = [makeEvent(), makeEvent()]
        const batch = yield* makeBatch(events, ["a", "b"])
        const result = yield* store.append(batch)
        yield* check.equal(
          result.appended,
          events.map((e) => e.event_id),
          "appended ids"
        )
        yield* check.equal(result.outbox_rows, 4, "outbox rows")
        const stored = yield* store.readEvents(0, 10)
        yield* check.equal(
          stored.map((s) => s.event.event_id),
          events.map((e) => e.event_id),
          "event log order"
        )
        yield* check.that(stored[0]!.position < stored[1]!.position, "positions increase")
        yield* check.equal(stored[0]!.raw_id, batch.raw!.raw_id, "events point at their raw payload")
        yield* check.equal(
          stored.map((s) => s.event),
          events,
          "events round-trip unchanged"
        )
        const raw = yield* store.getRaw(batch.raw!.raw_id)
        yield* check.equal(Option.getOrUndefined(raw), batch.raw!, "raw payload round-trips")
        const got = yield* store.getEvent(events[1]!.event_id)
        yield* check.equal(
          Option.map(got, (s) => s.event.event_id),
          Option.some(events[1]!.event_id),
          "getEvent"
        )
        const stats = yield* store.stats
        yield* check.equal([stats.pending, stats.by_route.a?.pending, stats.by_route.b?.pending], [4, 2, 2], "stats")
        yield* check.equal((yield* store.readEvents(stored[0]!.position, 10)).length, 1, "readEvents pages")
      })
  },
  {
    name: "a transaction that fails after an append leaves nothing",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const batch = yield* makeBatch([makeEvent()])
        const failed = yield* store
          .transaction(Effect.andThen(store.append(batch), Effect.fail("business rule broken" as const)))
          .pipe(Effect.flip)
        yield* check.equal(failed, "business rule broken", "the caller's error comes back")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event")
        yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
        yield* check.equal((yield* store.stats).pending, 0, "no outbox row")
        const ok = yield* store.transaction(store.append(batch))
        yield* check.equal(ok.outbox_rows, 1, "the same batch commits afterwards")
      })
  },
  {
    name: "what a transaction appended is invisible to claims until it commits, and gone if it rolls back",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const batch = yield* makeBatch([makeEvent()])
        const tx = yield* Effect.forkChild(
          store.transaction(
            Effect.andThen(
              store.append(batch),
              Effect.andThen(Effect.sleep(Duration.millis(300)), Effect.fail("abort"))
            )
          )
        )
        yield* harness.advance(Duration.millis(100))
        // A store may answer at once (SQL: the rows are not visible) or wait for the transaction.
        const claimer = yield* Effect.forkChild(claimAll("other"))
        yield* harness.advance(Duration.millis(400))
        yield* Fiber.await(tx)
        const claimed = yield* Fiber.join(claimer)
        yield* check.equal(claimed.length, 0, "nothing from an uncommitted transaction is claimed")
        yield* check.equal((yield* store.stats).pending, 0, "rolled back")
      })
  },
  {
    name: "a nested transaction that fails is rolled back alone (a savepoint); the outer one commits",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const kept = yield* makeBatch([makeEvent()])
        const dropped = yield* makeBatch([makeEvent()])
        yield* store.transaction(
          Effect.gen(function* () {
            yield* store.append(kept)
            yield* store.transaction(Effect.andThen(store.append(dropped), Effect.fail("inner"))).pipe(Effect.ignore)
          })
        )
        const events = yield* store.readEvents(0, 10)
        yield* check.equal(
          events.map((e) => e.event.event_id),
          [kept.events[0]!.event_id],
          "only the outer append"
        )
        yield* check.equal((yield* store.stats).pending, 1, "one outbox row")
      })
  },
  {
    name: "positions stay increasing and readEvents pages correctly after a rollback",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* store
          .transaction(Effect.andThen(store.append(yield* makeBatch([makeEvent()])), Effect.fail("x")))
          .pipe(Effect.ignore)
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        const all = yield* store.readEvents(0, 10)
        yield* check.equal(all.length, 3, "three events")
        yield* check.that(all[0]!.position < all[1]!.position && all[1]!.position < all[2]!.position, "increasing")
        const after = yield* store.readEvents(all[0]!.position, 10)
        yield* check.equal(
          after.map((e) => e.position),
          [all[1]!.position, all[2]!.position],
          "paging by position"
        )
      })
  },
  {
    name: "an invalid append fails and leaves nothing (no raw payload, no valid event)",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const batch = yield* makeBatch([makeEvent()])
        const stray = makeEvent()
        const error = yield* store
          .append({ ...batch, outbox: [...batch.outbox, { ...batch.outbox[0]!, event_id: stray.event_id }] })
          .pipe(Effect.flip)
        yield* check.equal(error._tag, "StoreError", "fails with StoreError")
        yield* check.that(!error.retryable, "invalid input is not retryable")
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event")
        yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
        yield* check.equal((yield* store.stats).pending, 0, "no outbox row")
      })
  },
  {
    name: "a deterministic event appended twice is stored once, with one outbox row per route",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const event = makeEvent()
        const first = yield* store.append(yield* makeBatch([event]))
        const second = yield* store.append(yield* makeBatch([event]))
        yield* check.equal([first.appended.length, first.outbox_rows], [1, 1], "first append")
        yield* check.equal(
          [second.appended, second.duplicates, second.outbox_rows],
          [[], [event.event_id], 0],
          "second"
        )
        const twice = makeEvent()
        const inOne = yield* store.append(yield* makeBatch([twice, twice]))
        yield* check.equal(
          [inOne.appended, inOne.duplicates],
          [[twice.event_id], [twice.event_id]],
          "twice in one batch"
        )
        yield* check.equal((yield* store.readEvents(0, 10)).length, 2, "two events stored")
        yield* check.equal((yield* store.stats).pending, 2, "two outbox rows")
      })
  },
  {
    name: "claim leases due rows in append order, up to the limit, and never hands a leased row out twice",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const events = [makeEvent(), makeEvent(), makeEvent()]
        yield* store.append(yield* makeBatch(events))
        const first = yield* claimAll("w1", 2)
        yield* check.equal(
          first.map((c) => c.event.event_id),
          events.slice(0, 2).map((e) => e.event_id),
          "order"
        )
        yield* check.that(
          first.every((c) => c.entry.lease?.owner === "w1"),
          "lease owner recorded"
        )
        yield* check.that(new Set(first.map(tokenOf)).size === 2 || first.length < 2, "a token per row")
        const second = yield* claimAll("w2")
        yield* check.equal(
          second.map((c) => c.event.event_id),
          [events[2]!.event_id],
          "only the unleased row"
        )
        yield* check.equal((yield* claimAll("w3")).length, 0, "nothing left")
        yield* check.equal((yield* store.stats).leased, 3, "three leased")
      })
  },
  {
    name: "concurrent claims never hand out the same row twice",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch(Array.from({ length: 30 }, () => makeEvent())))
        const batches = yield* Effect.forEach(
          Array.from({ length: 8 }, (_, i) => `w${i}`),
          (owner) => store.claim({ owner, limit: 5, lease }),
          { concurrency: "unbounded" }
        )
        const ids = batches.flat().map((c) => c.entry.outbox_id)
        yield* check.equal(ids.length, 30, "every row claimed once")
        yield* check.equal(new Set(ids).size, 30, "no row claimed twice")
      })
  },
  {
    name: "claim only takes the routes asked for",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()], ["a", "b"]))
        const claimed = yield* store.claim({ owner: "w", limit: 10, lease, routes: ["b"] })
        yield* check.equal(
          claimed.map((c) => c.entry.route),
          ["b"],
          "route b only"
        )
      })
  },
  {
    name: "delivered: the row leaves the queue with one attempt and a delivery time",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll()
        const report = yield* store.complete([
          Completion.Delivered({ outbox_id: claimed!.entry.outbox_id, token: tokenOf(claimed!) })
        ])
        yield* check.equal(report, { applied: [claimed!.entry.outbox_id], rejected: [] }, "applied")
        const entry = yield* entryOf(claimed!.entry.outbox_id)
        yield* check.equal([entry.status, entry.attempts, entry.lease], ["delivered", 1, null], "delivered row")
        yield* check.that(entry.delivered_at !== null, "delivered_at set")
        yield* check.equal((yield* claimAll()).length, 0, "not claimable again")
        const again = yield* store.complete([
          Completion.Delivered({ outbox_id: claimed!.entry.outbox_id, token: tokenOf(claimed!) })
        ])
        yield* check.equal(again.rejected, [claimed!.entry.outbox_id], "a second result is refused")
      })
  },
  {
    name: "retry: attempts+1, the error kept, claimable again only once due",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const delay = Duration.toMillis(expiryOf(harness))
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll()
        const before = DateTime.toEpochMillis(yield* harness.now)
        yield* store.complete([
          Completion.Retry({
            outbox_id: claimed!.entry.outbox_id,
            token: tokenOf(claimed!),
            error: "503 busy",
            delay_ms: delay
          })
        ])
        const after = DateTime.toEpochMillis(yield* harness.now)
        const entry = yield* entryOf(claimed!.entry.outbox_id)
        yield* check.equal(
          [entry.status, entry.attempts, entry.last_error, entry.lease],
          ["pending", 1, "503 busy", null],
          "row"
        )
        // The delay counts from when the store recorded the result, by the store's clock (a database
        // on this machine: allow a few milliseconds between its clock and ours).
        const due = DateTime.toEpochMillis(entry.next_attempt_at)
        yield* check.that(
          due >= before + delay - 5 && due <= after + delay + 5,
          `next attempt ${due} within [${before + delay}, ${after + delay}]`
        )
        yield* check.equal((yield* claimAll()).length, 0, "not claimable before it is due")
        yield* harness.advance(Duration.millis(delay * 1.5))
        const [again] = yield* claimAll()
        yield* check.equal(again?.entry.attempts, 1, "claimable when due, attempts kept")
      })
  },
  {
    name: "dead: the row stops with its reason; replay makes it pending with attempts reset",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const event = makeEvent({ event_type: "test.dead" })
        yield* store.append(yield* makeBatch([event, makeEvent()]))
        const claimed = yield* claimAll()
        const target = claimed.find((c) => c.event.event_id === event.event_id)!
        yield* store.complete([
          Completion.Dead({ outbox_id: target.entry.outbox_id, token: tokenOf(target), error: "permanent: 400" })
        ])
        const dead = yield* store.listOutbox({ status: "dead" })
        yield* check.equal(
          dead.map((d) => [d.outbox_id, d.last_error, d.attempts]),
          [[target.entry.outbox_id, "permanent: 400", 1]],
          "dead list"
        )
        yield* check.equal((yield* store.stats).dead, 1, "stats count the dead row")
        yield* check.equal(yield* store.replay({ event_type: "test.other" }), 0, "filter matches nothing")
        yield* check.equal(yield* store.replay({ event_type: "test.dead" }), 1, "replayed one")
        const replayed = yield* entryOf(target.entry.outbox_id)
        yield* check.equal(
          [replayed.status, replayed.attempts, replayed.replays, replayed.last_error],
          ["pending", 0, 1, "permanent: 400"],
          "replayed row keeps its history"
        )
        yield* check.equal(yield* store.replay({ outbox_ids: [target.entry.outbox_id] }), 0, "not dead any more")
      })
  },
  {
    name: "an expired lease lets another worker claim the row, and the first worker's late result is refused",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const short = expiryOf(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [first] = yield* claimAll("slow", 100, short)
        yield* check.equal((yield* claimAll("fast", 100, short)).length, 0, "leased")
        yield* harness.advance(Duration.times(short, 1.5))
        const [second] = yield* claimAll("fast", 100, short)
        yield* check.equal(second?.entry.outbox_id, first!.entry.outbox_id, "taken over after expiry")
        yield* check.that(tokenOf(second!) !== tokenOf(first!), "a new fencing token")
        const late = yield* store.complete([
          Completion.Delivered({ outbox_id: first!.entry.outbox_id, token: tokenOf(first!) })
        ])
        yield* check.equal(late, { applied: [], rejected: [first!.entry.outbox_id] }, "late result refused")
        const entry = yield* entryOf(first!.entry.outbox_id)
        yield* check.equal([entry.status, entry.attempts], ["pending", 0], "no attempt counted for the refused result")
        const ok = yield* store.complete([
          Completion.Retry({
            outbox_id: second!.entry.outbox_id,
            token: tokenOf(second!),
            error: "boom",
            delay_ms: 0
          })
        ])
        yield* check.equal(ok.applied, [second!.entry.outbox_id], "the current holder's result applies")
      })
  },
  {
    name: "a result recorded after the lease expired is refused even if nobody took the row",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const short = expiryOf(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        const [claimed] = yield* claimAll("w1", 100, short)
        yield* harness.advance(Duration.times(short, 1.5))
        const report = yield* store.complete([
          Completion.Delivered({ outbox_id: claimed!.entry.outbox_id, token: tokenOf(claimed!) })
        ])
        yield* check.equal(report.rejected, [claimed!.entry.outbox_id], "refused")
      })
  },
  {
    name: "release gives rows back at once without counting an attempt",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        const claimed = yield* claimAll()
        yield* store.complete(
          claimed.map((c) => Completion.Release({ outbox_id: c.entry.outbox_id, token: tokenOf(c) }))
        )
        const again = yield* claimAll("w2")
        yield* check.equal(
          again.map((c) => [c.entry.outbox_id, c.entry.attempts]),
          claimed.map((c) => [c.entry.outbox_id, 0]),
          "reclaimed"
        )
      })
  },
  {
    name: "results for unknown rows or wrong tokens are refused, the others applied",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        const [a, b] = yield* claimAll()
        const report = yield* store.complete([
          Completion.Delivered({ outbox_id: a!.entry.outbox_id, token: tokenOf(a!) }),
          Completion.Delivered({ outbox_id: b!.entry.outbox_id, token: "not-the-token" }),
          Completion.Delivered({ outbox_id: "999999999" as OutboxId, token: "x" })
        ])
        yield* check.equal(report.applied, [a!.entry.outbox_id], "applied")
        yield* check.equal([...report.rejected].sort(), [b!.entry.outbox_id, "999999999"].sort(), "rejected")
      })
  },
  {
    name: "ordered routes: an entity's later row waits for its earlier one; other entities are not blocked",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const a1 = makeEvent({ entity_id: "A" })
        const a2 = makeEvent({ entity_id: "A" })
        const b1 = makeEvent({ entity_id: "B" })
        yield* store.append(yield* makeBatch([a1, a2, b1], ["ordered"], { ordered: true }))
        const first = yield* claimAll()
        yield* check.equal(
          first.map((c) => c.event.event_id),
          [a1.event_id, b1.event_id],
          "heads only"
        )
        yield* check.equal((yield* claimAll("w2")).length, 0, "A's second row waits while A's first is leased")
        const a1Claim = first[0]!
        yield* store.complete([
          Completion.Dead({ outbox_id: a1Claim.entry.outbox_id, token: tokenOf(a1Claim), error: "gave up" })
        ])
        const next = yield* claimAll("w2")
        yield* check.equal(
          next.map((c) => c.event.event_id),
          [a2.event_id],
          "after the head is settled, the next row goes"
        )
      })
  },
  {
    name: "ordered routes: a retrying head holds its entity back",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const a1 = makeEvent({ entity_id: "A" })
        const a2 = makeEvent({ entity_id: "A" })
        yield* store.append(yield* makeBatch([a1, a2], ["ordered"], { ordered: true }))
        const [head] = yield* claimAll()
        yield* store.complete([
          Completion.Retry({
            outbox_id: head!.entry.outbox_id,
            token: tokenOf(head!),
            error: "503",
            delay_ms: 60_000
          })
        ])
        yield* check.equal((yield* claimAll()).length, 0, "a2 waits for a1's retry")
      })
  },
  {
    name: "waitForWork returns when rows are appended, and after maxWait otherwise",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const waiter = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* Effect.yieldNow
        yield* harness.advance(Duration.millis(50))
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* ended(harness, waiter, "woken by the append")
        const idle = yield* Effect.forkChild(store.waitForWork(Duration.millis(200)))
        yield* harness.advance(Duration.millis(200))
        yield* ended(harness, idle, "back after maxWait")
      })
  },
  {
    // A relay is busy claiming when rows arrive; the signal must wait for it, not be lost.
    name: "waitForWork returns at once after an append that came while nobody waited, and only once",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        // Use up whatever the setup signalled, so the next append's signal is the only one kept.
        yield* settleSignals(harness)
        yield* store.append(yield* makeBatch([makeEvent()]))
        yield* harness.advance(Duration.millis(100))
        const first = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* ended(harness, first, "the kept signal ends the wait at once")
        const second = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* check.that(second.pollUnsafe() === undefined, "a kept signal is used once")
        yield* Fiber.interrupt(second)
      })
  },
  {
    name: "waitForWork: a delivery on an unordered route wakes nobody; a release does",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent()]))
        yield* settleSignals(harness)
        const [a, b] = yield* claimAll("w", 2)
        const waiter = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* store.complete([Completion.Delivered({ outbox_id: a!.entry.outbox_id, token: tokenOf(a!) })])
        yield* harness.advance(Duration.millis(50))
        yield* check.that(waiter.pollUnsafe() === undefined, "still waiting after a delivery")
        yield* store.complete([Completion.Release({ outbox_id: b!.entry.outbox_id, token: tokenOf(b!) })])
        yield* ended(harness, waiter, "woken by the release")
      })
  },
  {
    name: "waitForWork: a retry wakes a waiter, and so does a delivery that unblocks an ordered entity",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent()]))
        const first = makeEvent({ entity_id: "ordered-entity" })
        const second = makeEvent({ entity_id: "ordered-entity" })
        yield* store.append(yield* makeBatch([first, second], ["ordered"], { ordered: true }))
        yield* settleSignals(harness)
        const claimed = yield* claimAll("w", 10)
        const plain = claimed.find((c) => c.entry.route === "default")!
        const head = claimed.find((c) => c.entry.route === "ordered")!
        yield* check.equal(claimed.length, 2, "the ordered entity's second event waits for its first")
        const afterRetry = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* store.complete([
          Completion.Retry({ outbox_id: plain.entry.outbox_id, token: tokenOf(plain), error: "503", delay_ms: 0 })
        ])
        yield* ended(harness, afterRetry, "woken by the retry")
        const afterOrdered = yield* Effect.forkChild(store.waitForWork(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(50))
        yield* store.complete([Completion.Delivered({ outbox_id: head.entry.outbox_id, token: tokenOf(head) })])
        yield* ended(harness, afterOrdered, "woken by the delivery that frees the entity")
      })
  },
  {
    name: "stats count pending, leased, delivered and dead per route, with the oldest pending time",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent()], ["r"]))
        const [a, b] = yield* claimAll("w", 2)
        yield* store.complete([
          Completion.Delivered({ outbox_id: a!.entry.outbox_id, token: tokenOf(a!) }),
          Completion.Dead({ outbox_id: b!.entry.outbox_id, token: tokenOf(b!), error: "x" })
        ])
        const stats = yield* store.stats
        yield* check.equal([stats.pending, stats.leased, stats.delivered, stats.dead], [1, 0, 1, 1], "totals")
        yield* check.equal(stats.by_route.r?.pending, 1, "per route")
        yield* check.that(stats.oldest_pending_at !== null, "oldest pending time")
      })
  },
  {
    name: "purgeDead deletes dead rows (one route's, or all) and nothing else; the events stay",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const events = [makeEvent(), makeEvent(), makeEvent()]
        const batch = yield* makeBatch(events, ["a", "b"])
        yield* store.append(batch)
        const claimed = yield* store.claim({ owner: "w", limit: 6, lease })
        // Dead: every row of the first two events; the third event's rows are delivered.
        yield* store.complete(
          claimed.map((c) =>
            c.event.event_id === events[2]!.event_id
              ? Completion.Delivered({ outbox_id: c.entry.outbox_id, token: tokenOf(c) })
              : Completion.Dead({ outbox_id: c.entry.outbox_id, token: tokenOf(c), error: "x" })
          )
        )
        yield* check.equal(yield* store.purgeDead({ route: "a" }), 2, "route a's dead rows")
        yield* check.equal(
          (yield* store.listOutbox({ status: "dead" })).map((e) => e.route),
          ["b", "b"],
          "route b's dead rows are left"
        )
        yield* check.equal(yield* store.purgeDead({}), 2, "the rest")
        yield* check.equal(yield* store.purgeDead({}), 0, "nothing left to purge")
        const left = yield* store.listOutbox({})
        yield* check.equal(
          left.map((e) => [e.status, e.route]),
          [
            ["delivered", "a"],
            ["delivered", "b"]
          ],
          "delivered rows untouched"
        )
        yield* check.that(Option.isSome(yield* store.getEvent(events[0]!.event_id)), "the event stays")
        const again = yield* store.append(batch)
        yield* check.equal([again.appended.length, again.outbox_rows], [0, 0], "appending it again is a duplicate")
      })
  },
  {
    name: "backlog counts pending, leased and dead rows per route as stats does, and leaves out delivered-only routes",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        // Route a: one delivered, one dead, one leased, one pending. Route b: one delivered only.
        yield* store.append(yield* makeBatch([makeEvent(), makeEvent(), makeEvent(), makeEvent()], ["a"]))
        yield* store.append(yield* makeBatch([makeEvent()], ["b"]))
        const b = yield* store.claim({ owner: "w", limit: 10, lease, routes: ["b"] })
        const a = yield* store.claim({ owner: "w", limit: 3, lease, routes: ["a"] })
        yield* store.complete([
          Completion.Delivered({ outbox_id: b[0]!.entry.outbox_id, token: tokenOf(b[0]!) }),
          Completion.Delivered({ outbox_id: a[0]!.entry.outbox_id, token: tokenOf(a[0]!) }),
          Completion.Dead({ outbox_id: a[1]!.entry.outbox_id, token: tokenOf(a[1]!), error: "x" })
        ])
        const backlog = yield* store.backlog
        const stats = yield* store.stats
        const counts = (s: { pending: number; leased: number; dead: number }) => [s.pending, s.leased, s.dead]
        yield* check.equal(counts(backlog), [2, 1, 1], "totals: pending, leased, dead")
        yield* check.equal(counts(backlog), counts(stats), "the same totals as stats")
        yield* check.equal(Object.keys(backlog.by_route), ["a"], "only routes with undelivered rows")
        yield* check.equal(counts(backlog.by_route.a!), counts(stats.by_route.a!), "route a as stats counts it")
        yield* check.equal(
          backlog.oldest_pending_at === null ? null : DateTime.toEpochMillis(backlog.oldest_pending_at),
          stats.oldest_pending_at === null ? null : DateTime.toEpochMillis(stats.oldest_pending_at),
          "oldest pending time as stats"
        )
        yield* check.that(backlog.oldest_pending_at !== null, "there is a pending row")
      })
  },
  ...StorableTextContract.cases
]
