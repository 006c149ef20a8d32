/**
 * The SubscriptionStore contract: what memory, PGlite and PostgreSQL must all do for catch-up
 * subscriptions (the port's doc comment states it). The cases of `Subscription` itself, which runs on
 * any store that passes these, are in SubscriptionRunContract.ts; `@sluice/core/vitest` runs both as
 * `subscriptionSuite(name, layer)`. Each case needs a fresh, empty store providing both services.
 */
import { DateTime, Deferred, Duration, Effect, Fiber, Option, type Scope } from "effect"
import type { Event } from "../Event.ts"
import { EventStore } from "../EventStore.ts"
import * as LogPosition from "../LogPosition.ts"
import { CheckpointConflictError, type LoggedEvent, SubscriptionStore } from "../SubscriptionStore.ts"
import * as check from "./check.ts"
import type { Harness } from "./EventStoreContract.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

export interface SubscriptionCase {
  readonly name: string
  readonly run: (harness: Harness) => Effect.Effect<void, unknown, EventStore | SubscriptionStore | Scope.Scope>
}

/** Appends `events` in one batch without outbox rows (a subscription needs no route). */
export const appendEvents = (events: ReadonlyArray<Event>) =>
  EventStore.use((store) => store.append({ raw: null, events, outbox: [] }))

/** Every event after `from`, read in pages of `limit` as a subscriber would. */
export const readRest = (from: LogPosition.LogPosition, limit = 2) =>
  Effect.gen(function* () {
    const store = yield* SubscriptionStore
    const out: Array<LoggedEvent> = []
    let after = from
    while (true) {
      const page = yield* store.readAll(after, limit)
      out.push(...page)
      if (page.length < limit) return out
      after = page.at(-1)!.log_position
    }
  })

/**
 * Moves the harness's time 10 ms at a time until `condition` holds, failing the case if it has not
 * within `deadline` of that time (generous: a real store may take a while on a busy machine).
 */
export const eventually = (
  harness: Harness,
  condition: Effect.Effect<boolean, unknown, EventStore | SubscriptionStore>,
  what: string,
  deadline: Duration.Duration = Duration.seconds(60)
) =>
  Effect.gen(function* () {
    const start = DateTime.toEpochMillis(yield* harness.now)
    while (!(yield* condition)) {
      if (DateTime.toEpochMillis(yield* harness.now) - start > Duration.toMillis(deadline)) {
        return yield* check.that(false, `${what} (not within ${Duration.format(deadline)})`)
      }
      yield* harness.advance(Duration.millis(10))
    }
  })

/**
 * The first `count` events after `from`, once that many are readable. A database may hold committed
 * events back while an older transaction is open, even another test's on the same server.
 */
export const visible = (harness: Harness, from: LogPosition.LogPosition, count: number) =>
  Effect.gen(function* () {
    let events: ReadonlyArray<LoggedEvent> = []
    yield* eventually(
      harness,
      Effect.map(readRest(from), (read) => {
        events = read
        return read.length >= count
      }),
      `${count} events readable`
    )
    return events
  })

/** Gives `fiber` up to a second of the harness's time to end (it may be waiting for a lock: then it goes on waiting). */
const settle = (harness: Harness, fiber: Fiber.Fiber<unknown, unknown>) =>
  Effect.gen(function* () {
    for (let i = 0; i < 100 && fiber.pollUnsafe() === undefined; i++) yield* harness.advance(Duration.millis(10))
  })

const idsOf = (events: ReadonlyArray<{ readonly event: Event }>) => events.map((e) => e.event.event_id)

const increasing = (events: ReadonlyArray<LoggedEvent>) =>
  events.every((e, i) => i === 0 || LogPosition.isAfter(e.log_position, events[i - 1]!.log_position))

export const cases: ReadonlyArray<SubscriptionCase> = [
  {
    name: "readAll returns committed events in log order after a position, a page at a time, resuming exactly",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* SubscriptionStore
        yield* check.equal(yield* store.readAll(LogPosition.start, 10), [], "an empty log")
        yield* check.equal(yield* store.head, LogPosition.start, "head of an empty log")
        const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent(), makeEvent()]
        yield* appendEvents(events.slice(0, 3))
        const routed = yield* makeBatch([events[3]!])
        yield* EventStore.use((s) => s.append(routed))
        yield* appendEvents(events.slice(4))
        const all = yield* visible(harness, LogPosition.start, 5)
        const first = yield* store.readAll(LogPosition.start, 2)
        yield* check.equal(idsOf(first), idsOf(events.slice(0, 2).map((event) => ({ event }))), "first page")
        yield* check.equal(
          all.map((e) => e.event),
          events,
          "every event once, in append order, unchanged"
        )
        const stored = yield* Effect.forEach(all, (e) => EventStore.use((s) => s.getEvent(e.event.event_id)))
        yield* check.equal(
          all.map(({ log_position: _, ...rest }) => rest),
          stored.map((found) => Option.getOrUndefined(found)),
          "each as getEvent stores it (position, revision, raw_id, recorded_at)"
        )
        yield* check.that(increasing(all), "log positions increase")
        yield* check.that(
          all.every((e) => e.log_position.position === e.position),
          "log_position.position is the event's position"
        )
        yield* check.equal(idsOf(yield* readRest(all[2]!.log_position, 10)), idsOf(all.slice(3)), "resume after #3")
        yield* check.equal(yield* store.readAll(all[4]!.log_position, 10), [], "nothing after the last")
        yield* check.equal(yield* store.readAll(LogPosition.start, 0), [], "limit 0")
        yield* check.equal(yield* store.head, all[4]!.log_position, "head is the last event")
      })
  },
  {
    name: "readAll never hands out an event that sorts before one already read: an open transaction holds back later commits",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const subs = yield* SubscriptionStore
        const early = makeEvent()
        const late = makeEvent()
        const inside = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        // A takes its place in the log first and commits last.
        const a = yield* Effect.forkChild(
          store.transaction(
            Effect.gen(function* () {
              yield* appendEvents([early])
              yield* Deferred.succeed(inside, undefined)
              yield* Deferred.await(gate)
            })
          )
        )
        yield* Deferred.await(inside)
        // B appends after A and commits while A is open (a store may instead make it wait for A).
        const b = yield* Effect.forkChild(appendEvents([late]))
        yield* settle(harness, b)
        // A subscriber reads while A is open (a store may make it wait for A)...
        const reader = yield* Effect.forkChild(subs.readAll(LogPosition.start, 10))
        yield* settle(harness, reader)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(a)
        yield* Fiber.join(b)
        const seen = [...(yield* Fiber.join(reader))]
        // ... and resumes after what it read: it must still get A's event, once.
        seen.push(...(yield* visible(harness, seen.at(-1)?.log_position ?? LogPosition.start, 2 - seen.length)))
        yield* check.equal(
          idsOf(seen).sort(),
          [early.event_id, late.event_id].sort(),
          "both events, each once, whatever the read in between returned"
        )
        yield* check.that(increasing(seen), "in log order")
      })
  },
  {
    name: "readAll never returns what a transaction appended before it commits, nor ever if it rolls back",
    run: (harness) =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const subs = yield* SubscriptionStore
        const dropped = makeEvent()
        const tx = yield* Effect.forkChild(
          store.transaction(
            Effect.andThen(
              appendEvents([dropped]),
              Effect.andThen(Effect.sleep(Duration.millis(300)), Effect.fail("abort"))
            )
          )
        )
        yield* harness.advance(Duration.millis(100))
        const reader = yield* Effect.forkChild(subs.readAll(LogPosition.start, 10))
        yield* harness.advance(Duration.millis(400))
        yield* Fiber.await(tx)
        yield* check.equal(yield* Fiber.join(reader), [], "nothing from an uncommitted transaction")
        const kept = makeEvent()
        yield* appendEvents([kept])
        yield* check.equal(
          idsOf(yield* visible(harness, LogPosition.start, 1)),
          [kept.event_id],
          "only the committed event"
        )
      })
  },
  {
    name: "checkpoints: saved by compare-and-set, loaded, listed and reset",
    run: () =>
      Effect.gen(function* () {
        const store = yield* SubscriptionStore
        const x = { transaction_id: 0, position: 3 }
        const y = { transaction_id: 7, position: 2 }
        yield* check.that(Option.isNone(yield* store.loadCheckpoint("p")), "no checkpoint at first")
        yield* store.saveCheckpoint({ name: "p", from: null, to: x })
        const loaded = yield* store.loadCheckpoint("p")
        yield* check.equal(
          Option.map(loaded, (c) => [c.name, c.position]),
          Option.some(["p", x]),
          "loaded"
        )
        const again = yield* Effect.flip(store.saveCheckpoint({ name: "p", from: null, to: y }))
        yield* check.that(again instanceof CheckpointConflictError, "a first save when there is one conflicts")
        yield* check.equal(
          [(again as CheckpointConflictError).expected, (again as CheckpointConflictError).actual],
          [null, x],
          "the conflict says what was expected and what is stored"
        )
        const stale = yield* Effect.flip(store.saveCheckpoint({ name: "p", from: y, to: y }))
        yield* check.that(stale instanceof CheckpointConflictError, "a save from the wrong position conflicts")
        yield* store.saveCheckpoint({ name: "p", from: x, to: y })
        yield* store.saveCheckpoint({ name: "o", from: null, to: x })
        const listed = yield* store.listCheckpoints
        yield* check.equal(
          listed.map((c) => [c.name, c.position]),
          [
            ["o", x],
            ["p", y]
          ],
          "listed by name"
        )
        yield* check.equal(yield* store.resetCheckpoint("p"), true, "reset")
        yield* check.equal(yield* store.resetCheckpoint("p"), false, "reset again: nothing to reset")
        yield* check.that(Option.isNone(yield* store.loadCheckpoint("p")), "gone after reset")
        yield* store.saveCheckpoint({ name: "p", from: null, to: x })
        for (const bad of ["", " p", "x".repeat(201)]) {
          const error = yield* Effect.flip(store.loadCheckpoint(bad))
          yield* check.that(
            error._tag === "StoreError" && !error.retryable && error.message.includes("subscriber name"),
            `a bad name (${JSON.stringify(bad.slice(0, 10))}) is refused, naming the field: ${error.message}`
          )
        }
      })
  },
  {
    name: "saving or resetting a checkpoint joins the caller's transaction and rolls back with it",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const subs = yield* SubscriptionStore
        const to = { transaction_id: 0, position: 1 }
        const failed = yield* store
          .transaction(Effect.andThen(subs.saveCheckpoint({ name: "p", from: null, to }), Effect.fail("boom" as const)))
          .pipe(Effect.flip)
        yield* check.equal(failed, "boom", "the caller's error comes back")
        yield* check.that(Option.isNone(yield* subs.loadCheckpoint("p")), "the save rolled back")
        yield* store.transaction(subs.saveCheckpoint({ name: "p", from: null, to }))
        yield* store
          .transaction(Effect.andThen(subs.resetCheckpoint("p"), Effect.fail("boom" as const)))
          .pipe(Effect.ignore)
        yield* check.equal(
          Option.map(yield* subs.loadCheckpoint("p"), (c) => c.position),
          Option.some(to),
          "the reset rolled back"
        )
      })
  },
  {
    name: "listen: a listener wakes when events commit, also for a commit that landed before it waited",
    run: (harness) =>
      Effect.gen(function* () {
        const subs = yield* SubscriptionStore
        const listener = yield* subs.listen
        yield* appendEvents([makeEvent()])
        const kept = yield* Effect.forkChild(listener.wait(Duration.minutes(10)))
        yield* eventually(
          harness,
          Effect.sync(() => kept.pollUnsafe() !== undefined),
          "a kept wake-up"
        )
        const waiting = yield* Effect.forkChild(listener.wait(Duration.minutes(10)))
        yield* harness.advance(Duration.millis(10))
        yield* EventStore.use((store) => store.transaction(appendEvents([makeEvent()])))
        yield* eventually(
          harness,
          Effect.sync(() => waiting.pollUnsafe() !== undefined),
          "woken by a commit"
        )
      })
  }
]
