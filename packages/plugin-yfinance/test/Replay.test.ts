/**
 * `@sluice/plugin-yfinance/replay`: the Yahoo plugin offline, on the recordings shipped with the
 * package (what the offline quickstart runs) or on a directory given in its config.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "@effect/vitest"
import { Ingest, layerMemory, Plugin, type Source, Sources } from "@sluice/core"
import { Effect, Layer } from "effect"
import { TestClock } from "effect/testing"
import { shippedRecordings, YahooReplayPlugin } from "../src/Replay.ts"
import { router, storedEvents } from "./support/pipeline.ts"

const fixtures = fileURLToPath(new URL("./fixtures/yahoo/", import.meta.url))

/** One instance of the replay plugin, built through its layer as the runner builds it. */
const instance = (config: unknown, name = "replay") =>
  Effect.gen(function* () {
    const context = yield* Layer.build(YahooReplayPlugin.layer(config, name).pipe(Layer.provideMerge(Sources.layer)))
    const sources = yield* Effect.gen(function* () {
      return yield* (yield* Sources).all
    }).pipe(Effect.provideContext(context))
    return sources[0] as Source
  })

const tickedIds = (source: Source) =>
  Effect.gen(function* () {
    yield* Ingest.tick(source, router)
    return (yield* storedEvents).map((e) => `${e.event.event_type} ${e.event.entity_id}`)
  })

describe("the replay plugin", () => {
  it.effect("without recordings it replays the shipped set: the offline quickstart's quotes and bars", () =>
    Effect.gen(function* () {
      const quotes = yield* instance({ symbols: ["AAPL", "BABA"] }, "quotes")
      assert.strictEqual(quotes.name, "quotes")
      assert.deepStrictEqual((yield* tickedIds(quotes)).sort(), ["quote.updated AAPL", "quote.updated BABA"])
      // Long after the recorded bars closed (the TestClock starts at 1970, before they opened).
      yield* TestClock.setTime(Date.UTC(2026, 0, 2))
      const bars = yield* instance({
        mode: "chart",
        symbols: ["AAPL", "BTC-USD", "EURUSD=X", "GC=F"],
        interval: "1d",
        period1: "2020-01-01",
        period2: "2020-01-03"
      })
      const ids = yield* tickedIds(bars)
      assert.strictEqual(ids.filter((id) => id.startsWith("bar.closed")).length, 8)
    }).pipe(Effect.scoped, Effect.provide(layerMemory))
  )

  it.effect("reads the directory given as recordings, skipping the files `exclude` names", () =>
    Effect.gen(function* () {
      // quote-AAPL.json (AAPL alone) is a test fixture, not shipped: only the given directory answers it.
      const source = yield* instance({ recordings: fixtures, exclude: [".fake.", "sluice-"], symbols: ["AAPL"] })
      assert.deepStrictEqual(yield* tickedIds(source), ["quote.updated AAPL"])
    }).pipe(Effect.scoped, Effect.provide(layerMemory))
  )

  it.effect("a directory that cannot be read, or holds no recording, fails the start naming it", () =>
    Effect.gen(function* () {
      const missing = join(tmpdir(), "sluice-no-such-recordings")
      const error = yield* Effect.flip(instance({ recordings: missing, symbols: ["AAPL"] }))
      assert.instanceOf(error, Plugin.PluginStartError)
      assert.include(error.message, `cannot read recordings in ${missing}: ENOENT`)

      const empty = mkdtempSync(join(tmpdir(), "sluice-replay-"))
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => rmSync(empty, { recursive: true, force: true, maxRetries: 5 }))
      )
      const none = yield* Effect.flip(instance({ recordings: empty, symbols: ["AAPL"] }))
      assert.include(none.message, `cannot read recordings in ${empty}: it holds no recording (*.json)`)
    }).pipe(Effect.scoped, Effect.provide(layerMemory))
  )

  it.effect("its config is plugin-yfinance's, with the same cross-field rules, plus recordings", () =>
    Effect.gen(function* () {
      const rules = yield* Effect.flip(
        Plugin.decodeConfig(YahooReplayPlugin, "r", { symbols: ["AAPL"], lookback: "1 day" })
      )
      assert.include(rules.details, "lookback is not a quote-mode setting")
      const empty = yield* Effect.flip(
        Plugin.decodeConfig(YahooReplayPlugin, "r", { recordings: "", symbols: ["AAPL"] })
      )
      assert.include(empty.details, 'Expected a non-empty path\n  at ["recordings"]')
    })
  )

  it("ships the recordings it replays unchanged from the test fixtures", () => {
    const shipped = readdirSync(shippedRecordings).filter((name) => name.endsWith(".json"))
    assert.isAtLeast(shipped.length, 12)
    for (const name of shipped) {
      assert.strictEqual(
        readFileSync(join(shippedRecordings, name), "utf8"),
        readFileSync(join(fixtures, name), "utf8")
      )
    }
  })
})
