/**
 * Projections in the runner, in process: the config's `projections` checked with errors naming
 * the field, a projection plugin loaded by path built and run beside the memory store (stopped
 * with the run's scope, a failing event logged with its position), each subscriber's checkpoint
 * and lag as `status` and `/api/status` report them, and the projection commands' errors.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { EventStore, jsonLogger, layerMemory, OutboxAdmin, Plugin, Projection, SubscriptionStore } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer, Logger, Schedule, Schema } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { TestConsole } from "effect/testing"
import * as Admin from "../src/Admin.ts"
import { hostRule } from "../src/AdminGuards.ts"
import { decodeConfig } from "../src/ConfigFile.ts"
import { isUsageError } from "../src/ExitCode.ts"
import { plan } from "../src/Plan.ts"
import { fromProjectionPlugin } from "../src/PluginLoader.ts"
import * as ProjectionCommands from "../src/ProjectionCommands.ts"
import * as ProjectionReport from "../src/ProjectionReport.ts"
import * as Projections from "../src/Projections.ts"
import * as StatusReport from "../src/StatusReport.ts"
import { StoreHealth, StoreSql } from "../src/StoreLayer.ts"
import * as SubscriberStatus from "../src/SubscriberStatus.ts"
import { tallies } from "./fixtures/tally-projection.ts"
import { withEnv, writeConfig } from "./support/config.ts"

const fixtures = new URL("./fixtures/", import.meta.url).pathname
const tally = "./tally-projection.ts"

const planOf = (raw: unknown) =>
  Effect.flatMap(decodeConfig("c.json", raw).pipe(withEnv()), (config) =>
    plan({ file: "c.json", dir: fixtures, config })
  )

/** The memory store as the runner opens it (no SqlClient). */
const memoryStore = Layer.mergeAll(layerMemory, Layer.succeed(StoreSql, StoreSql.of({ client: undefined })))

const append = (types: ReadonlyArray<string>) =>
  Effect.flatMap(makeBatch(types.map((event_type) => makeEvent({ event_type }))), (batch) =>
    EventStore.use((store) => store.append(batch))
  )

describe("projections in the config", () => {
  it.effect(
    "each problem names its field: duplicate names, unknown or wrong-kind plugins, bad options, SQL on memory",
    () =>
      Effect.gen(function* () {
        const duplicate = yield* Effect.flip(
          planOf({
            projections: [
              { name: "p", plugin: tally },
              { name: "p", plugin: tally }
            ]
          })
        )
        expect(duplicate.message).toContain('["projections"][1]["name"]')
        expect(duplicate.message).toContain(`duplicate projection name "p"`)

        const problems = yield* Effect.flip(
          planOf({
            store: { driver: "memory" },
            projections: [
              { name: "a", plugin: "@acme/nope" },
              { name: "b", plugin: "console" },
              { name: "c", plugin: "@sluice/plugin-yfinance/read-model", options: { schema: "Not-An-Identifier" } },
              { name: "d", plugin: "yahoo-read-model" }
            ]
          })
        )
        const message = problems.message
        expect(message).toContain('unknown projection plugin "@acme/nope": no such package installed')
        expect(message).toContain(
          'installed (built-in projection plugins: @sluice/plugin-yfinance/read-model, yahoo-read-model; or give a package name or a path to a module exporting a Plugin)\n  at ["projections"][0]["plugin"]'
        )
        expect(message).toContain("it is a transport plugin")
        expect(message).toContain('Expected a lower-case SQL identifier\n  at ["projections"][2]["options"]["schema"]')
        expect(message).toContain('["projections"][3]["plugin"]')
        expect(message).toContain('store.driver is "memory"')
      })
  )

  it.effect("a projection plugin by path plans with its defaults", () =>
    Effect.gen(function* () {
      const planned = yield* planOf({ store: { driver: "memory" }, projections: [{ name: "t", plugin: tally }] })
      const [only] = planned.projections
      assert.strictEqual(only?.plugin.name, "tally-projection")
      assert.strictEqual(only?.config.batchSize, 500)
      assert.strictEqual(only?.config.pollInterval, "1 second")
    })
  )
})

describe("a projection plugin's context", () => {
  // The store schema is the read model's owner (the Yahoo read model refuses another's tables).
  it.effect("make gets the store's schema", () =>
    Effect.gen(function* () {
      const seen: Array<Plugin.ProjectionContext | undefined> = []
      const probe = fromProjectionPlugin(
        Plugin.defineProjection({
          name: "probe",
          config: Schema.Struct({}),
          usesSql: false,
          make: (_, name, context) => {
            seen.push(context)
            return Effect.succeed({ projection: Projection.make({ name, apply: () => Effect.void }) })
          }
        })
      )
      const planned = yield* planOf({ store: { driver: "memory" }, projections: [{ name: "t", plugin: tally }] })
      const [only] = planned.projections
      yield* Projections.build({ ...only!, plugin: probe }, "1 second").pipe(
        Effect.provide(Layer.succeed(StoreSql, StoreSql.of({ client: undefined, schema: "pipeline_a" })))
      )
      expect(seen).toEqual([{ storeSchema: "pipeline_a" }])
    })
  )
})

describe("projections in sluice run", () => {
  it.live(
    "run beside the store, report checkpoint and lag, and stop with the run",
    () =>
      Effect.gen(function* () {
        const planned = yield* planOf({
          store: { driver: "memory" },
          projections: [{ name: "tally-run", plugin: tally, batchSize: 2, pollInterval: "50 millis" }]
        })
        yield* append(["a.happened", "a.happened", "b.happened"])
        // Before it runs: listed (configured), no checkpoint, every event behind.
        const before = yield* SubscriberStatus.measure(["tally-run"])
        expect(before).toMatchObject([{ name: "tally-run", checkpoint: null, lag_events: 3, lag_capped: false }])
        expect(before[0]?.oldest_unprocessed_age_s).toBeTypeOf("number")

        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* Projections.start(planned, "1 second")
            yield* append(["b.happened", "c.happened"])
            const counts = Effect.sync(() => Object.fromEntries(tallies.get("tally-run") ?? []))
            yield* counts.pipe(
              Effect.repeat({
                until: (c) => c["a.happened"] === 2 && c["b.happened"] === 2 && c["c.happened"] === 1,
                schedule: Schedule.spaced("20 millis")
              }),
              Effect.timeout("30 seconds")
            )
          })
        )
        const after = yield* SubscriberStatus.measure(["tally-run"])
        expect(after).toMatchObject([
          { name: "tally-run", checkpoint: "0/5", lag_events: 0, oldest_unprocessed_age_s: null }
        ])
        // Stopped with the scope: a new event is not applied.
        yield* append(["a.happened"])
        expect(tallies.get("tally-run")?.get("a.happened")).toBe(2)
        const logs = (yield* TestConsole.logLines).map((line) => JSON.parse(String(line)))
        expect(logs).toContainEqual(
          expect.objectContaining({ message: "projection started", subscription: "tally-run", position: "none" })
        )
        expect(logs).toContainEqual(
          expect.objectContaining({ message: "projection stopped", subscription: "tally-run", position: "0/5" })
        )
      }).pipe(Effect.provide(Layer.mergeAll(memoryStore, TestConsole.layer, Logger.layer([jsonLogger])))),
    60_000
  )

  it.live(
    "a failing event is logged with the subscription, its position and the error, and retried",
    () =>
      Effect.gen(function* () {
        const planned = yield* planOf({
          store: { driver: "memory" },
          projections: [
            { name: "tally-fail", plugin: tally, options: { failOn: "bad.thing" }, pollInterval: "50 millis" }
          ]
        })
        yield* append(["ok.thing", "bad.thing"])
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* Projections.start(planned, "1 second")
            const failures = TestConsole.logLines.pipe(
              Effect.map(
                (lines) =>
                  lines
                    .map((line) => JSON.parse(String(line)))
                    .filter((l) => l.message === "projection failed to apply an event").length
              )
            )
            yield* failures.pipe(
              Effect.repeat({ until: (n) => n >= 2, schedule: Schedule.spaced("20 millis") }),
              Effect.timeout("30 seconds")
            )
          })
        )
        const logs = (yield* TestConsole.logLines).map((line) => JSON.parse(String(line)))
        expect(logs).toContainEqual(
          expect.objectContaining({
            level: "ERROR",
            message: "projection failed to apply an event",
            subscription: "tally-fail",
            position: "0/2",
            event_type: "bad.thing",
            error: "cannot tally bad.thing"
          })
        )
        // The batch rolled back: nothing checkpointed, both events still behind.
        expect(yield* SubscriberStatus.measure(["tally-fail"])).toMatchObject([{ name: "tally-fail", lag_events: 2 }])
      }).pipe(Effect.provide(Layer.mergeAll(memoryStore, TestConsole.layer, Logger.layer([jsonLogger])))),
    60_000
  )
})

describe("subscribers in status", () => {
  it.effect("status prints each subscriber's checkpoint and lag; /api/status answers the same", () =>
    Effect.gen(function* () {
      yield* append(["x.happened", "x.happened"])
      yield* SubscriptionStore.use((s) =>
        s.saveCheckpoint({ name: "audit", from: null, to: { transaction_id: 0, position: 1 } })
      )
      const subscriptions = yield* SubscriberStatus.measure(["read-model"])
      const store = yield* EventStore
      const admin = yield* OutboxAdmin
      const report = yield* StatusReport.measure(admin, 0 as never, undefined, subscriptions).pipe(
        Effect.provideService(EventStore, store)
      )
      yield* StatusReport.print(report, false)
      const printed = (yield* TestConsole.logLines).map(String)
      expect(printed).toContain("  subscription audit: checkpoint 0/1, lag 1 event(s), oldest unprocessed 0s")
      expect(printed.some((l) => l.startsWith("  subscription read-model: no checkpoint yet, lag 2 event(s)"))).toBe(
        true
      )

      const services = Layer.mergeAll(
        Layer.succeed(EventStore, store),
        Layer.succeed(OutboxAdmin, admin),
        Layer.succeed(SubscriptionStore, yield* SubscriptionStore),
        Layer.succeed(StoreHealth, StoreHealth.of({ check: Effect.succeed({ database: true, migrations: true }) })),
        HttpServer.layerServices
      )
      const { handler, dispose } = HttpRouter.toWebHandler(
        Admin.routes({ hosts: hostRule("127.0.0.1", 9464, ["admin"]), subscribers: ["read-model"] }).pipe(
          Layer.provide(services)
        ),
        { disableLogger: true }
      )
      const body = yield* Effect.promise(async () => {
        const response = await handler(new Request("http://admin/api/status", { headers: { host: "admin" } }))
        const text = await response.text()
        await dispose()
        return JSON.parse(text) as StatusReport.StatusReport
      })
      // The same report, the ages aside (the handler runs on the live clock, this test on TestClock).
      const withoutAge = (all: ReadonlyArray<SubscriberStatus.SubscriberStatus> = []) =>
        all.map(({ oldest_unprocessed_age_s: _, ...rest }) => rest)
      expect(withoutAge(body.subscriptions)).toEqual(withoutAge(subscriptions))
    }).pipe(Effect.provide(Layer.mergeAll(memoryStore, TestConsole.layer)))
  )
  it.effect("subscribers at the same position share one read of the log", () =>
    Effect.gen(function* () {
      yield* append(["x.happened", "x.happened"])
      const store = yield* SubscriptionStore
      let reads = 0
      const counting = SubscriptionStore.of({
        ...store,
        readAll: (after, limit) =>
          Effect.suspend(() => {
            reads++
            return store.readAll(after, limit)
          })
      })
      const all = yield* SubscriberStatus.measure(["a", "b", "c"]).pipe(
        Effect.provideService(SubscriptionStore, counting)
      )
      expect(all.map((s) => s.lag_events)).toEqual([2, 2, 2])
      expect(reads).toBe(1)
    }).pipe(Effect.provide(memoryStore))
  )

  it.effect("measureOne measures the subscriber asked for, checkpointed or not", () =>
    Effect.gen(function* () {
      yield* append(["x.happened", "x.happened"])
      yield* SubscriptionStore.use((s) =>
        s.saveCheckpoint({ name: "audit", from: null, to: { transaction_id: 0, position: 1 } })
      )
      const all = yield* SubscriberStatus.measure(["read-model"])
      expect(yield* SubscriberStatus.measureOne("read-model")).toEqual(all.find((s) => s.name === "read-model"))
      expect(yield* SubscriberStatus.measureOne("audit")).toMatchObject({
        name: "audit",
        checkpoint: "0/1",
        lag_events: 1
      })
    }).pipe(Effect.provide(memoryStore))
  )
})

describe("projection commands", () => {
  it("show's heading says how many of the table's rows it shows", () => {
    const rows = [{ symbol: "AAPL" }]
    expect(ProjectionReport.rowsHeading({ name: "q", rows, total: 2 }, 1)).toBe("showing 1 of 2 rows")
    expect(ProjectionReport.rowsHeading({ name: "q", rows, total: 1 }, 1)).toBe("all 1 row(s)")
    expect(ProjectionReport.rowsHeading({ name: "q", rows }, 20)).toBe("all 1 row(s)")
    expect(ProjectionReport.rowsHeading({ name: "q", rows }, 1)).toBe(
      "the first 1 row(s) (--limit 1); there may be more"
    )
  })

  it.effect("an unknown NAME is a usage error listing the config's projections", () =>
    Effect.gen(function* () {
      const { file } = writeConfig({
        store: { driver: "memory" },
        projections: [{ name: "tally-cmd", plugin: `${fixtures}tally-projection.ts` }]
      })
      const error = yield* Effect.flip(ProjectionCommands.rebuild(file, "nope", undefined as never))
      expect(error.message).toBe(`no projection named "nope" in ${file} (its projections: tally-cmd)`)
      expect(isUsageError(error)).toBe(true)
    })
  )
})
