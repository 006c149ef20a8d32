/**
 * Yahoo restates history: the GOOG daily bar of 2020-01-02, fetched before the 20:1 split of 2022
 * and after it, has the same natural key and other prices. The second fetch is a correction: a new
 * event that supersedes the first, delivered through the outbox and counted in the tick report.
 */
import { assert, describe, it } from "@effect/vitest"
import { Ingest, layerMemory } from "@sluice/core"
import { Effect } from "effect"
import { TestClock } from "effect/testing"
import type { BarPayload } from "../src/index.ts"
import { outboxRows, router, sourceOf, storedEvents } from "./support/pipeline.ts"
import { replay } from "./support/recordings.ts"

const config = { mode: "chart", symbols: ["GOOG"], period1: "2020-01-01", period2: "2020-01-03" } as const
const recordedIn = (year: 2021 | 2025) => sourceOf(config, replay([`sluice-chart-GOOG-recorded-${year}.json`]).fetch)
const closes = Effect.map(storedEvents, (events) =>
  events.map((s) => [(s.event.payload as unknown as BarPayload).close, s.revision, s.event.supersedes ?? null])
)

describe("Yahoo restatements", () => {
  it.effect(
    "a bar fetched again after a split is a correction of the one fetched before; the same again a duplicate",
    () =>
      Effect.gen(function* () {
        yield* TestClock.setTime(Date.UTC(2021, 0, 4))
        const before = yield* Ingest.tick(yield* recordedIn(2021), router)
        assert.deepStrictEqual(
          before.payloads.map((p) => [p.appended, p.corrected, p.duplicates]),
          [[1, 0, 0]]
        )
        const [original] = yield* storedEvents
        yield* TestClock.setTime(Date.UTC(2025, 1, 3))
        const after = yield* recordedIn(2025)
        const report = yield* Ingest.tick(after, router)
        assert.deepStrictEqual(
          report.payloads.map((p) => [p.appended, p.corrected, p.duplicates]),
          [[0, 1, 0]]
        )
        assert.deepStrictEqual(yield* closes, [
          [1367.37, 0, null],
          [68.3685, 1, original!.event.event_id]
        ])
        // Delivered like any bar: one row per matching route (bars, all) for each version.
        assert.strictEqual((yield* outboxRows).length, 4)
        const again = yield* Ingest.tick(after, router)
        assert.deepStrictEqual(
          again.payloads.map((p) => [p.appended, p.corrected, p.duplicates]),
          [[0, 0, 1]]
        )
        assert.strictEqual((yield* storedEvents).length, 2)
      }).pipe(Effect.provide(layerMemory))
  )
})
