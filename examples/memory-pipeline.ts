/**
 * `bin/start`: runs the example pipeline on the in-memory store for three ticks, printing every
 * delivered event as a JSON line, then the outbox stats. No database, no network.
 */

import { layerMemory, Transports } from "@sluice/core"
import { Effect, Layer } from "effect"
import { printTransport, runDemo } from "./pipeline.ts"

const stats = await Effect.runPromise(
  runDemo(3).pipe(Effect.provide(Layer.mergeAll(layerMemory, Transports.layerOf(printTransport))))
)
console.error(`delivered ${stats.delivered}, pending ${stats.pending}, dead ${stats.dead}`)
