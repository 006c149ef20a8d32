/**
 * Plugins' upcasters in the runner, in process: a source plugin (loaded by path) that emits version
 * 1 events and declares the upcaster to version 2 runs in `sluice run` on the memory store; a
 * `publish: "latest"` route delivers version 2, a "stored" route version 1, a projection sees
 * version 2. Two plugins upcasting the same type from the same version are refused when the config
 * is checked (`validate`, `run`), naming both; malformed upcasters and gaps are problems too.
 */
import { assert, describe, expect, it } from "@effect/vitest"
import { jsonLogger, Plugin, Upcaster } from "@sluice/core"
import { Effect, Layer, Logger, Schedule, Schema } from "effect"
import { TestConsole } from "effect/testing"
import { decodeConfig } from "../src/ConfigFile.ts"
import { loadPlan, plan } from "../src/Plan.ts"
import type { LoadedPlugin } from "../src/PluginLoader.ts"
import * as PluginUpcasters from "../src/PluginUpcasters.ts"
import { run } from "../src/Run.ts"
import { seen } from "./fixtures/recording-projection.ts"
import { recorded } from "./fixtures/recording-transport.ts"
import { readingV1toV2 } from "./fixtures/versioned-source.ts"
import { withEnv, writeConfig } from "./support/config.ts"

const fixtures = new URL("./fixtures/", import.meta.url).pathname

const planOf = (raw: unknown) =>
  Effect.flatMap(decodeConfig("c.json", raw).pipe(withEnv()), (config) =>
    plan({ file: "c.json", dir: fixtures, config })
  )

const readings = (name: string, total = 3) => ({ name, plugin: "./versioned-source.ts", options: { total } })

describe("plugins' upcasters in sluice run", () => {
  it.live(
    'a "latest" route publishes version 2, a "stored" route version 1, a projection sees version 2',
    () =>
      Effect.gen(function* () {
        const planned = yield* planOf({
          store: { driver: "memory" },
          admin: { enabled: false },
          sources: [{ ...readings("readings"), schedule: { every: "50 millis" } }],
          transports: [{ name: "wire", plugin: "./recording-transport.ts" }],
          routes: [
            { name: "as-stored", transport: "wire", topic: "stored", match: ["reading.*"] },
            { name: "as-latest", transport: "wire", topic: "latest", match: ["reading.*"], publish: "latest" }
          ],
          projections: [{ name: "readings-seen", plugin: "./recording-projection.ts", pollInterval: "50 millis" }],
          relay: { pollInterval: "50 millis" }
        })
        assert.strictEqual(planned.upcasters.latest("reading.taken"), 2)
        const done = Effect.gen(function* () {
          const wire = recorded.get("wire")
          const delivered = wire === undefined ? [] : yield* wire.delivered
          return delivered.length >= 6 && seen.get("readings-seen")?.length === 3
        })
        // The run until everything arrived (then it is interrupted, as by SIGTERM); failing to start fails the test.
        yield* Effect.raceFirst(
          run(planned),
          done.pipe(
            Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("20 millis") }),
            Effect.timeout("30 seconds")
          )
        )
        const delivered = yield* recorded.get("wire")!.delivered
        const asPublished = (topic: string) =>
          delivered
            .filter((envelope) => envelope.topic === topic)
            .map(({ event }) => ({ version: event.schema_version, payload: event.payload }))
            .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
        expect(asPublished("stored")).toEqual([
          { version: 1, payload: { celsius: 0 } },
          { version: 1, payload: { celsius: 10 } },
          { version: 1, payload: { celsius: 20 } }
        ])
        expect(asPublished("latest")).toEqual([
          { version: 2, payload: { celsius: 0, fahrenheit: 32 } },
          { version: 2, payload: { celsius: 10, fahrenheit: 50 } },
          { version: 2, payload: { celsius: 20, fahrenheit: 68 } }
        ])
        expect(seen.get("readings-seen")).toEqual([
          { event_type: "reading.taken", schema_version: 2, payload: { celsius: 0, fahrenheit: 32 } },
          { event_type: "reading.taken", schema_version: 2, payload: { celsius: 10, fahrenheit: 50 } },
          { event_type: "reading.taken", schema_version: 2, payload: { celsius: 20, fahrenheit: 68 } }
        ])
      }).pipe(Effect.provide(Layer.mergeAll(TestConsole.layer, Logger.layer([jsonLogger])))),
    60_000
  )
})

describe("plugins' upcasters when the config is checked", () => {
  it.effect("two plugins upcasting the same type from the same version: refused by validate, naming both", () =>
    Effect.gen(function* () {
      const { file } = writeConfig({
        store: { driver: "memory" },
        sources: [
          { ...readings("readings"), plugin: `${fixtures}versioned-source.ts` },
          { name: "other", plugin: `${fixtures}conflicting-source.ts` }
        ]
      })
      // loadPlan is what `sluice validate` and `sluice run` check a file with.
      const error = yield* Effect.flip(loadPlan(file).pipe(withEnv()))
      expect(error.message).toContain(
        'plugin conflicting-source: upcasts "reading.taken" from version 1, and so does plugin versioned-source (at ["sources"][0]["plugin"]): an event type\'s versions belong to the plugin that emits it, so only one may upcast them\n  at ["sources"][1]["plugin"]'
      )
    })
  )

  it.effect("several instances of one plugin register its upcasters once; no plugin upcasters: none", () =>
    Effect.gen(function* () {
      const twice = yield* planOf({ store: { driver: "memory" }, sources: [readings("a"), readings("b")] })
      assert.strictEqual(twice.upcasters.latest("reading.taken"), 2)
      const none = yield* planOf({
        store: { driver: "memory" },
        sources: [{ name: "c", plugin: "./counter-source.ts", options: { total: 1, perTick: 1, prefix: "c" } }]
      })
      assert.isTrue(none.upcasters.isEmpty)
    })
  )

  const loaded = (name: string, upcasters: unknown): LoadedPlugin => ({
    name,
    kind: "source",
    schema: Schema.Struct({}),
    decode: () => Effect.succeed({}),
    layer: () => Layer.empty,
    upcasters
  })
  const step = (from: number) => Upcaster.fromFunction({ event_type: "reading.taken", from, upcast: (p) => p })

  it("a gap between two plugins' versions, malformed upcasters, the same upcaster shared by two plugins", () => {
    const gap = PluginUpcasters.check({
      sources: [loaded("a", [step(1)]), undefined, loaded("b", [step(3)])],
      transports: []
    })
    expect(gap.problems).toEqual([
      {
        message: 'upcasters of plugins a and b: "reading.taken" has upcasters from 1 to 4 but none from version 2',
        path: ["sources", 0, "plugin"]
      }
    ])
    const malformed = PluginUpcasters.check({
      sources: [loaded("a", "nope"), loaded("b", [{ event_type: "x", from: 0, upcast: () => null }])],
      transports: [loaded("c", [step(1), step(1)])]
    })
    expect(malformed.problems.map((p) => [p.message, p.path])).toEqual([
      [
        "plugin a: upcasters: not an array (make upcasters with Upcaster.make or Upcaster.fromFunction)",
        ["sources", 0, "plugin"]
      ],
      [
        "plugin b: upcasters[0]: from: not an integer >= 1 (make upcasters with Upcaster.make or Upcaster.fromFunction)",
        ["sources", 1, "plugin"]
      ],
      ['plugin c: upcasts "reading.taken" from version 1 twice', ["transports", 0, "plugin"]]
    ])
    // A replay plugin sharing its live sibling's upcaster objects is no conflict.
    const shared = PluginUpcasters.check({
      sources: [loaded("live", [readingV1toV2]), loaded("replay", [readingV1toV2])],
      transports: []
    })
    expect(shared.problems).toEqual([])
    assert.strictEqual(shared.registry.latest("reading.taken"), 2)
  })
})

describe("plugins' upcasters, typed", () => {
  it("Plugin.define takes upcasters for a source plugin only", () => {
    const source = Plugin.define({
      name: "typed-source",
      kind: "source",
      config: Schema.Struct({}),
      upcasters: [readingV1toV2],
      make: (_config, name) =>
        Effect.succeed({
          name,
          fetch: Effect.succeed({ payloads: [], failures: [] }),
          transform: () => Effect.succeed({ events: [], issues: [] })
        })
    })
    expect(source.upcasters).toEqual([readingV1toV2])
    const transport = Plugin.define({
      name: "typed-transport",
      kind: "transport",
      config: Schema.Struct({}),
      // @ts-expect-error: a transport emits no events, so it upcasts none
      upcasters: [readingV1toV2],
      make: (_config, name) => Effect.succeed({ name, publish: () => Effect.succeed([]) })
    })
    assert.strictEqual(transport.kind, "transport")
  })
})
