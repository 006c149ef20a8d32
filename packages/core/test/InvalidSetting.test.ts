/**
 * Options that cannot work are refused at once, naming the option: for the relay, a lease of 0
 * would let a second worker claim rows the first is still publishing, a poll interval of 0 would
 * spin, and NaN workers would start none (counts below 1 still count as 1, as documented); for
 * `Ingest.run`, an interval of 0 would hammer the source.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, type Scope } from "effect"
import type { EventStore } from "../src/EventStore.ts"
import * as Ingest from "../src/Ingest.ts"
import { InvalidSettingError } from "../src/InvalidSetting.ts"
import * as MemoryEventStore from "../src/MemoryEventStore.ts"
import type { OutboxQueue } from "../src/OutboxQueue.ts"
import * as Relay from "../src/Relay.ts"
import type { Route } from "../src/Routing.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import type { Source } from "../src/Source.ts"
import { Transports } from "../src/Transports.ts"
import { makeBatch, makeEvent } from "../src/testing/fixtures.ts"
import * as MemoryTransport from "../src/testing/MemoryTransport.ts"

const routes: ReadonlyArray<Route> = [{ name: "r", transport: "memory", topic: "t", match: ["**"] }]

type Needs = EventStore | OutboxQueue | Transports | Scope.Scope

/** Runs `effect` (scoped) on `stores`, or an empty memory store, with a memory transport; its exit. */
const exitOf = <A, E>(effect: Effect.Effect<A, E, Needs>, stores?: MemoryEventStore.MemoryStores) =>
  Effect.gen(function* () {
    const memory = yield* MemoryTransport.make("memory")
    return yield* effect.pipe(
      Effect.provideContext(MemoryEventStore.toContext(stores ?? (yield* MemoryEventStore.makeStores))),
      Effect.provideService(Transports, Transports.makeOf([memory.transport])),
      Effect.scoped,
      Effect.exit
    )
  })

/** The InvalidSettingError `effect` died with, if it did. */
const refusal = <A, E>(effect: Effect.Effect<A, E, Needs>) =>
  Effect.gen(function* () {
    const exit = yield* exitOf(effect)
    if (Exit.isSuccess(exit)) return undefined
    const defect = Cause.squash(exit.cause)
    return defect instanceof InvalidSettingError ? defect : undefined
  })

describe("InvalidSettingError: relay options", () => {
  const cases: ReadonlyArray<readonly [string, Partial<Relay.StartOptions>]> = [
    ["lease", { lease: Duration.zero }],
    ["lease", { lease: "soon" as Duration.Input }],
    ["lease", { lease: Duration.infinity }],
    ["lease", { lease: -5 }],
    ["lease", { lease: "500 micros" }],
    ["publishTimeout", { publishTimeout: Duration.zero }],
    ["pollInterval", { pollInterval: Duration.zero }],
    ["pollInterval", { pollInterval: Duration.infinity }],
    ["gracePeriod", { gracePeriod: -1 }],
    ["gracePeriod", { gracePeriod: Number.NaN }],
    ["batchSize", { batchSize: Number.NaN }],
    ["workers", { workers: Number.NaN }],
    ["workers", { workers: Number.POSITIVE_INFINITY }]
  ]

  for (const [option, bad] of cases) {
    it.effect(`start refuses ${option} = ${String(Object.values(bad)[0])}, naming it`, () =>
      Effect.gen(function* () {
        const error = yield* refusal(Relay.start({ routes, ...bad }))
        assert.strictEqual(error?.owner, "relay")
        assert.strictEqual(error?.setting, option)
        assert.include(error?.message ?? "", `relay option ${option}:`)
      })
    )
  }

  it.effect("runOnce refuses a lease of 0 before claiming anything", () =>
    Effect.gen(function* () {
      const error = yield* refusal(Relay.runOnce({ routes, lease: Duration.zero }))
      assert.strictEqual(error?.setting, "lease")
    })
  )

  it.effect("the message names the option and shows the value", () =>
    Effect.gen(function* () {
      const unparsed = yield* refusal(Relay.start({ routes, lease: "soon" as Duration.Input }))
      assert.strictEqual(unparsed?.message, 'relay option lease: "soon" is not a duration')
      const small = yield* refusal(Relay.start({ routes, pollInterval: "500 micros" }))
      assert.strictEqual(small?.message, 'relay option pollInterval: "500 micros" is under 1 millisecond')
    })
  )

  it.effect("a grace period of 0 is allowed, and a batch size below 1 counts as 1", () =>
    Effect.gen(function* () {
      const stores = yield* MemoryEventStore.makeStores
      yield* stores.eventStore.append(yield* makeBatch([makeEvent(), makeEvent()], ["r"]))
      const report = yield* exitOf(Relay.runOnce({ routes, batchSize: 0 }), stores)
      assert.isTrue(Exit.isSuccess(report) && report.value.claimed === 1)
      assert.isTrue(Exit.isSuccess(yield* exitOf(Relay.start({ routes, gracePeriod: Duration.zero }))))
    })
  )
})

describe("InvalidSettingError: Ingest.run options", () => {
  const source: Source = {
    name: "never-fetched",
    fetch: Effect.die("fetched despite a bad option"),
    transform: () => Effect.succeed({ events: [], issues: [] })
  }
  const router = makeRouterUnsafe(routes)

  const cases: ReadonlyArray<readonly [string, Ingest.RunOptions]> = [
    ["interval", { interval: Duration.zero }],
    ["interval", { interval: "often" as Duration.Input }],
    ["maxBackoff", { interval: "1 second", maxBackoff: Duration.zero }]
  ]
  for (const [option, bad] of cases) {
    it.effect(
      `Ingest.run refuses ${option} = ${String(option === "interval" ? bad.interval : bad.maxBackoff)} before fetching`,
      () =>
        Effect.gen(function* () {
          const error = yield* refusal(Ingest.run(source, router, bad))
          assert.strictEqual(error?.owner, "ingest")
          assert.strictEqual(error?.setting, option)
        })
    )
  }
})
