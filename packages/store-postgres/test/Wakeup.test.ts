/**
 * The NOTIFY rate limit, on a SqlClient that records statements instead of sending them and with
 * the TestClock: a trickle at the configured rate with jitter but no stall is not delayed, a steady
 * 200 signals/s with stalls is not delayed with the defaults (which sit above that rate: at exactly
 * the rate a stall empties the bucket for good), a burst is coalesced, and no signal is left
 * without a NOTIFY after it. And, with a fake LISTEN, a store ignores the echo of its own NOTIFY.
 */
import { assert, describe, it } from "@effect/vitest"
import { InvalidSettingError } from "@sluice/core"
import { makeHeldClock } from "@sluice/core/testing"
import { Cause, Clock, Duration, Effect, Exit, Fiber, Logger, References, Scope } from "effect"
import { Reactivity } from "effect/reactivity"
import { SqlClient, type SqlConnection } from "effect/sql"
import { TestClock } from "effect/testing"
import { makeCompiler } from "../src/PgCompiler.ts"
import * as PgEventStore from "../src/PgEventStore.ts"
import { PgNotifications } from "../src/PgNotifications.ts"
import * as Wakeup from "../src/Wakeup.ts"

/**
 * A SqlClient whose statements only append their time of arrival (TestClock millis) to `sent`, and
 * each NOTIFY's payload to `payloads`; every statement's text goes to `statements`.
 */
const recordingClient = (sent: Array<number>, payloads: Array<string> = [], statements: Array<string> = []) => {
  const record = (sql: string, params: ReadonlyArray<unknown>) =>
    Effect.clockWith((clock) =>
      Effect.sync(() => {
        statements.push(sql)
        if (sql.includes("pg_notify")) {
          sent.push(clock.currentTimeMillisUnsafe())
          payloads.push(String(params[1]))
        }
        return []
      })
    )
  const connection: SqlConnection.Connection = {
    execute: record,
    executeRaw: record,
    executeStream: () => {
      throw new Error("not used")
    },
    executeValues: record,
    executeValuesUnprepared: record,
    executeUnprepared: record
  }
  return SqlClient.make({
    acquirer: Effect.succeed(connection),
    transactionAcquirer: Effect.succeed(connection),
    borrower: (f) => f(connection),
    compiler: makeCompiler(),
    driver: "postgres",
    spanAttributes: []
  }).pipe(Effect.provide(Reactivity.layer))
}

const setupWith = (debounce: Duration.Duration) =>
  Effect.gen(function* () {
    const sent: Array<number> = []
    const sql = yield* recordingClient(sent)
    const wakeup = yield* Wakeup.make(sql, undefined, { channel: "sluice_test", notify: true, debounce })
    return { sent, wakeup }
  })

const setup = setupWith(Duration.millis(5))

/** Deterministic jitter in [0, 1) (a linear congruential generator), so a failure replays. */
const jitter = (seed: number) => {
  let state = seed
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648
    return state / 2_147_483_648
  }
}

describe("Wakeup: NOTIFY rate limit", () => {
  it.effect("a trickle at the configured rate, with jitter and no stall, gets one NOTIFY per signal, at once", () =>
    Effect.gen(function* () {
      const { sent, wakeup } = yield* setup
      // 5 ms apart on average, alternately 4 and 6: a fixed 5 ms window would hold every other one.
      const at: Array<number> = []
      for (let i = 0, t = 0; i < 20; i++) {
        at.push(t)
        yield* wakeup.signal(Wakeup.WORK)
        const gap = i % 2 === 0 ? 4 : 6
        yield* TestClock.adjust(Duration.millis(gap))
        t += gap
      }
      assert.deepStrictEqual(sent, at)
    }).pipe(Effect.scoped)
  )

  it.effect("a NOTIFY held back by the limit carries the kinds of every signal it covers", () =>
    Effect.gen(function* () {
      const sent: Array<number> = []
      const payloads: Array<string> = []
      const sql = yield* recordingClient(sent, payloads)
      const wakeup = yield* Wakeup.make(sql, undefined, {
        channel: "sluice_test",
        notify: true,
        debounce: Duration.millis(5)
      })
      for (let i = 0; i < Wakeup.BURST; i++) yield* wakeup.signal(Wakeup.WORK)
      // The bucket is empty: these two share the next NOTIFY.
      yield* wakeup.signal(Wakeup.EVENTS)
      yield* wakeup.signal(Wakeup.WORK)
      yield* TestClock.adjust(Duration.millis(10))
      assert.strictEqual(payloads.length, Wakeup.BURST + 1)
      assert.strictEqual(payloads.at(-1)?.split(":")[1], String(Wakeup.WORK | Wakeup.EVENTS))
    }).pipe(Effect.scoped)
  )

  it.effect(
    "with the driver's own NOTIFY sender, NOTIFYs go through it as rate-limited, and a failed one is only logged",
    () =>
      Effect.gen(function* () {
        const statements: Array<string> = []
        const sql = yield* recordingClient([], [], statements)
        const sent: Array<string> = []
        const logged: Array<string> = []
        let fail = false
        const notifications = PgNotifications.of({
          listen: () => Effect.void,
          notify: (channel, payload, onError) => {
            sent.push(`${channel} ${payload.split(":")[1]}`)
            if (fail) onError(new Error("connection lost"))
          }
        })
        const logger = Logger.make<unknown, void>(({ message }) => {
          logged.push(String(message))
        })
        const wakeup = yield* Wakeup.make(sql, notifications, {
          channel: "sluice_test",
          notify: true,
          debounce: Duration.millis(5)
        }).pipe(Effect.provide(Logger.layer([logger])), Effect.provideService(References.MinimumLogLevel, "Debug"))
        for (let i = 0; i < Wakeup.BURST; i++) yield* wakeup.signal(Wakeup.EVENTS)
        assert.deepStrictEqual(sent, Array(Wakeup.BURST).fill("sluice_test 2"), "the burst at once, through the driver")
        yield* wakeup.signal(Wakeup.WORK)
        assert.strictEqual(sent.length, Wakeup.BURST, "the limit holds")
        yield* TestClock.adjust(Duration.millis(5))
        assert.strictEqual(sent.at(-1), "sluice_test 1", "then one NOTIFY, once the bucket allows")
        assert.isFalse(
          statements.some((text) => text.includes("pg_notify")),
          "no NOTIFY statement on the SqlClient"
        )
        fail = true
        yield* TestClock.adjust(Duration.millis(100))
        yield* wakeup.signal(Wakeup.EVENTS)
        yield* TestClock.adjust(Duration.millis(1))
        assert.strictEqual(sent.length, Wakeup.BURST + 2, "a failing NOTIFY fails nothing")
        assert.strictEqual(logged.length, 1, "logged once")
        assert.include(logged[0], "NOTIFY failed")
        assert.include(logged[0], "connection lost", "with its cause")
      }).pipe(Effect.scoped)
  )

  it.effect("a wall clock stepped back does not take tokens away", () =>
    Effect.gen(function* () {
      const { sent, wakeup } = yield* setupWith(Wakeup.defaultDebounce)
      yield* TestClock.setTime(1_000)
      for (let i = 0; i < Wakeup.BURST; i++) yield* wakeup.signal(Wakeup.WORK)
      // The bucket is empty; the clock steps back 100 ms (an NTP correction).
      yield* TestClock.setTime(900)
      yield* wakeup.signal(Wakeup.WORK)
      yield* TestClock.adjust(Duration.millis(200))
      // One window later, not 100 ms plus a window later: the step back refilled nothing, but took nothing.
      assert.deepStrictEqual(sent, [...Array.from({ length: Wakeup.BURST }, () => 1_000), 904])
    }).pipe(Effect.scoped)
  )

  it.effect("with the defaults, a steady 200 signals/s with jitter and stalls gets every NOTIFY at once", () =>
    Effect.gen(function* () {
      // The commit-to-publish bench's rate on a fixed schedule (an ingest loop that sleeps until
      // its next slot): each signal up to 2 ms late, every 50th 10 ms late (a GC pause, a slow
      // commit). With a limit of exactly 200/s the bucket never refills ahead of the schedule:
      // after a stall, every later signal would wait for the time the stall took beyond a window.
      const { sent, wakeup } = yield* setupWith(Wakeup.defaultDebounce)
      const late = jitter(42)
      const at: Array<number> = []
      for (let i = 0; i < 1000; i++) {
        // A late one delays the next too (it cannot start before the previous signal).
        const due = Math.max(at.at(-1) ?? 0, i * 5 + (i % 50 === 49 ? 10 : Math.floor(late() * 3)))
        yield* TestClock.adjust(Duration.millis(due - (at.at(-1) ?? 0)))
        at.push(due)
        yield* wakeup.signal(Wakeup.WORK)
      }
      assert.deepStrictEqual(sent, at)
    }).pipe(Effect.scoped)
  )

  it.effect("a burst gets the burst allowance at once, then one NOTIFY covering the rest", () =>
    Effect.gen(function* () {
      const { sent, wakeup } = yield* setup
      for (let i = 0; i < 50; i++) yield* wakeup.signal(Wakeup.WORK)
      const burst = Array.from({ length: Wakeup.BURST }, () => 0)
      assert.deepStrictEqual(sent, burst, "the burst allowance at once")
      yield* TestClock.adjust(Duration.millis(5))
      assert.deepStrictEqual(sent, [...burst, 5], "the others share one, when the bucket allows")
      yield* TestClock.adjust(Duration.millis(100))
      assert.strictEqual(sent.length, Wakeup.BURST + 1, "nothing more without new signals")
    }).pipe(Effect.scoped)
  )

  it.effect("dense signals for a long time average one NOTIFY per window, and the last signal is covered", () =>
    Effect.gen(function* () {
      const { sent, wakeup } = yield* setup
      // One signal per millisecond for a second.
      for (let i = 0; i < 1000; i++) {
        yield* wakeup.signal(Wakeup.WORK)
        yield* TestClock.adjust(Duration.millis(1))
      }
      yield* TestClock.adjust(Duration.millis(10))
      assert.isAtMost(sent.length, 1000 / 5 + Wakeup.BURST)
      assert.isAtLeast(sent.length, 1000 / 5 - 2)
      assert.isAtLeast(sent.at(-1)!, 999, "a NOTIFY after the last signal")
    }).pipe(Effect.scoped)
  )

  it.effect("its own NOTIFY coming back wakes nobody; another instance's does", () =>
    Effect.gen(function* () {
      const payloads: Array<string> = []
      let deliver: (payload: string) => void = () => {}
      const notifications = PgNotifications.of({
        listen: (_channel, onNotify) =>
          Effect.sync(() => {
            deliver = onNotify
          })
      })
      const sql = yield* recordingClient([], payloads)
      const wakeup = yield* Wakeup.make(sql, notifications, {
        channel: "sluice_test",
        notify: true,
        debounce: Duration.millis(5)
      })
      // A signal with nobody waiting: kept, and NOTIFY sent with this instance's payload. The next
      // wait uses the kept wake-up (and starts LISTEN).
      yield* wakeup.signal(Wakeup.WORK)
      yield* wakeup.wait(Duration.seconds(10))
      const own = payloads[0]!
      const waiter = yield* Effect.forkChild(wakeup.wait(Duration.seconds(10)))
      yield* TestClock.adjust(Duration.millis(1))
      deliver(own)
      yield* TestClock.adjust(Duration.millis(1))
      assert.isUndefined(waiter.pollUnsafe(), "the echo of its own NOTIFY")
      deliver("another-instance")
      yield* TestClock.adjust(Duration.millis(1))
      assert.isDefined(waiter.pollUnsafe(), "another instance's NOTIFY")
    }).pipe(Effect.scoped)
  )

  it.effect("a NOTIFY names what it signals: events wake subscription listeners only, work wakes relays only", () =>
    Effect.gen(function* () {
      const payloads: Array<string> = []
      let deliver: (payload: string) => void = () => {}
      const notifications = PgNotifications.of({
        listen: (_channel, onNotify) =>
          Effect.sync(() => {
            deliver = onNotify
          })
      })
      const sql = yield* recordingClient([], payloads)
      const wakeup = yield* Wakeup.make(sql, notifications, {
        channel: "sluice_test",
        notify: true,
        debounce: Duration.millis(5)
      })
      yield* wakeup.signal(Wakeup.EVENTS)
      yield* TestClock.adjust(Duration.millis(10))
      yield* wakeup.signal(Wakeup.WORK | Wakeup.EVENTS)
      assert.deepStrictEqual(
        payloads.map((p) => p.split(":")[1]),
        ["2", "3"],
        "each NOTIFY carries its kinds"
      )
      const listener = yield* wakeup.listen
      // Both kept wake-ups are used up (the listener saw none: it did not exist yet).
      yield* wakeup.wait(Duration.seconds(10))
      const relay = yield* Effect.forkChild(wakeup.wait(Duration.seconds(10)))
      const subscriber = yield* Effect.forkChild(listener.wait(Duration.seconds(10)))
      yield* TestClock.adjust(Duration.millis(1))
      deliver("another-instance:2")
      yield* TestClock.adjust(Duration.millis(1))
      assert.isDefined(subscriber.pollUnsafe(), "events wake a listener")
      assert.isUndefined(relay.pollUnsafe(), "events alone do not wake a relay")
      deliver("another-instance:1")
      yield* TestClock.adjust(Duration.millis(1))
      assert.isDefined(relay.pollUnsafe(), "work wakes a relay")
      const next = yield* Effect.forkChild(listener.wait(Duration.seconds(10)))
      yield* TestClock.adjust(Duration.millis(1))
      assert.isUndefined(next.pollUnsafe(), "work alone does not wake a listener")
      deliver("older-version-without-kinds")
      yield* TestClock.adjust(Duration.millis(1))
      assert.isDefined(next.pollUnsafe(), "a payload without kinds wakes both")
    }).pipe(Effect.scoped)
  )

  it.effect(
    "a notifyDebounce that does not parse, is NaN or is below 0, is refused when the store is built, naming it, before migrating",
    () =>
      Effect.gen(function* () {
        const statements: Array<string> = []
        const sql = yield* recordingClient([], [], statements)
        for (const notifyDebounce of ["soon", -1, Number.NaN] as const) {
          const exit = yield* PgEventStore.make({ notifyDebounce: notifyDebounce as Duration.Input }).pipe(
            Effect.provideService(SqlClient.SqlClient, sql),
            Effect.scoped,
            Effect.exit
          )
          const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
          assert.instanceOf(defect, InvalidSettingError)
          assert.include((defect as InvalidSettingError).message, "store option notifyDebounce:")
        }
        assert.deepStrictEqual(statements, [], "no statement (no migration) before the refusal")
        // 0 is allowed: no rate limit.
        const store = yield* PgEventStore.make({ migrate: false, notifyDebounce: 0 }).pipe(
          Effect.provideService(SqlClient.SqlClient, sql),
          Effect.scoped,
          Effect.exit
        )
        assert.isTrue(Exit.isSuccess(store))
      })
  )
})

describe("Wakeup: timers", () => {
  // A woken relay wait leaves its timer to the next wait (core's WorkSignal); with none, the store's
  // scope stops it, or it would run out its maxWait after the store is gone.
  it.effect("closing the store's scope stops the timer a woken relay wait left", () => {
    const held = makeHeldClock()
    return Effect.gen(function* () {
      const sql = yield* recordingClient([])
      const scope = yield* Scope.make()
      const wakeup = yield* Wakeup.make(sql, undefined, {
        channel: "sluice_test",
        notify: false,
        debounce: Duration.millis(5)
      }).pipe(Scope.provide(scope))
      const waiting = yield* Effect.forkChild(wakeup.wait(Duration.hours(1)))
      yield* Effect.yieldNow
      assert.strictEqual(held.pending(), 1)
      yield* wakeup.signal(Wakeup.WORK)
      yield* Fiber.join(waiting)
      assert.strictEqual(held.pending(), 1, "left to the next wait")
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(held.pending(), 0)
    }).pipe(Effect.provideService(Clock.Clock, held.clock))
  })
})
