/**
 * The `sluice` executable's body, loaded by main.ts once the Node version is checked. Runs the CLI
 * on the process arguments and owns the process: the first SIGTERM/SIGINT interrupts the command
 * (a `run` then drains and exits 0), a second one exits at once; the exit code follows ExitCode.ts.
 */
import { setFlagsFromString } from "node:v8"
import * as NodeChildProcessSpawner from "@effect/platform-node-shared/NodeChildProcessSpawner"
import * as NodeFileSystem from "@effect/platform-node-shared/NodeFileSystem"
import * as NodePath from "@effect/platform-node-shared/NodePath"
import * as NodeStdio from "@effect/platform-node-shared/NodeStdio"
import * as NodeTerminal from "@effect/platform-node-shared/NodeTerminal"
import { Effect, Layer } from "effect"
import { cli } from "./Cli.ts"
import { processEnv } from "./Environment.ts"
import { exitCode, failureText } from "./ExitCode.ts"

// V8 lets the old generation grow to up to 4x its live size between full collections; capped at
// 1.5x, a drain peaks far lower at the same speed (`pnpm bench --only rss`; bench/NOTES.md). A value
// given on node's command line wins.
if (!process.execArgv.some((arg) => arg.startsWith("--heap-growing-percent")))
  setFlagsFromString("--heap-growing-percent=50")

// What the CLI module needs (its `Environment`): @effect/platform-node's `NodeServices.layer`, taken from
// @effect/platform-node-shared, whose only dependency is `ws` (platform-node brings redis and undici).
const NodeServices = Layer.provideMerge(
  NodeChildProcessSpawner.layer,
  Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeStdio.layer, NodeTerminal.layer)
)

const fiber = Effect.runFork(cli(process.argv.slice(2)).pipe(Effect.provide(Layer.merge(NodeServices, processEnv))))

let signalled = false
const onSignal = (signal: NodeJS.Signals) => {
  if (signalled) {
    process.stderr.write(`sluice: second ${signal}, exiting now\n`)
    process.exit(signal === "SIGINT" ? 130 : 143)
  }
  signalled = true
  fiber.interruptUnsafe(fiber.id)
}
process.on("SIGINT", onSignal)
process.on("SIGTERM", onSignal)
// The fiber alone does not keep Node's event loop alive while it waits on Effect-only work.
const keepAlive = setInterval(() => {}, 1 << 30)

fiber.addObserver((exit) => {
  clearInterval(keepAlive)
  const text = failureText(exit)
  if (text !== undefined) process.stderr.write(`${text}\n`)
  const code = exitCode(exit, signalled)
  // Let stdout/stderr drain (pipes may be asynchronous), then exit even if a handle lingers.
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)))
})
