/**
 * Test support: in its own process, prints `ready`, waits for a line on stdin (so that several
 * processes start at the same moment), takes the DataDirLock of the directory given as argument and
 * prints `acquired` (then holds it until killed) or `refused: <message>` (and exits).
 */
import { Effect, Logger } from "effect"
import { acquire } from "../../src/DataDirLock.ts"

const dir = process.argv[2] ?? "."
// Effect.never alone does not keep Node's event loop alive.
const keepAlive = setInterval(() => {}, 1 << 30)
process.stdout.write("ready\n")
await new Promise((resolve) => process.stdin.once("data", resolve))

await Effect.runPromise(
  Effect.scoped(
    acquire(dir, { command: "lock-holder" }).pipe(
      Effect.andThen(() => {
        process.stdout.write("acquired\n")
        return Effect.never
      }),
      Effect.catch((error) => Effect.sync(() => process.stdout.write(`refused: ${error.message}\n`))),
      // stdout carries only the answer.
      Effect.provide(Logger.layer([]))
    )
  )
)
clearInterval(keepAlive)
