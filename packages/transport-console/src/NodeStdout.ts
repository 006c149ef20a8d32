/**
 * The default ConsoleSink: the process's stdout. The only file of the package that touches a
 * runtime API (`node:process`, which Deno and Bun also provide).
 */
import process from "node:process"
import { Effect, Layer, type Scope } from "effect"
import { ConsoleSink, type ConsoleSinkShape, fromWritable } from "./ConsoleSink.ts"

/** A sink writing to `process.stdout`, guarded against EPIPE while the scope is open. */
export const makeStdout: Effect.Effect<ConsoleSinkShape, never, Scope.Scope> = Effect.suspend(() =>
  fromWritable(process.stdout, "stdout")
)

/** Provides the stdout sink. */
export const layerStdout: Layer.Layer<ConsoleSink> = Layer.effect(ConsoleSink, makeStdout)
