// The README's composition example, compiled and run: the relay prints an appended event as a JSON line.
import { assert, it } from "@effect/vitest"
import { EventStore, layerMemory, Relay, type Route, Transports } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer } from "effect"
import { ConsoleSink, ConsoleTransportPlugin } from "../src/index.ts"
import { makeCaptureSink } from "./captureSink.ts"

it.effect("README: the relay prints through the console transport", () =>
  Effect.gen(function* () {
    const capture = makeCaptureSink(false)
    // #region compose
    const routes: ReadonlyArray<Route> = [{ name: "log", transport: "stdout", topic: "all", match: ["**"] }]
    const Live = ConsoleTransportPlugin.layer({ format: "json" }, "stdout").pipe(
      Layer.provideMerge(Transports.layer),
      Layer.provideMerge(layerMemory)
    )
    const program = Effect.gen(function* () {
      const store = yield* EventStore
      yield* store.append(yield* makeBatch([makeEvent()], ["log"]))
      return yield* Relay.runOnce({ routes })
    })
    // Without a ConsoleSink in the context the transport writes to process.stdout.
    const report = yield* program.pipe(Effect.provide(Live), Effect.provideService(ConsoleSink, capture.sink))
    // #endregion
    assert.strictEqual(report.delivered, 1)
    assert.strictEqual(capture.lines().length, 1)
    assert.strictEqual((JSON.parse(capture.lines()[0]!) as { route: string }).route, "log")
  })
)
