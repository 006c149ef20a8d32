/** The console transport on a real stdout pipe that the reader closed: a child process. */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { assert, it } from "@effect/vitest"
import type { PublishOutcome } from "@sluice/core"
import { Effect } from "effect"

const errorOf = (outcome: PublishOutcome | undefined) =>
  outcome === undefined || outcome._tag === "Delivered" ? "" : outcome.error

it.live(
  "a real closed stdout pipe: the process reports Retryable outcomes and exits normally",
  () =>
    Effect.gen(function* () {
      const script = fileURLToPath(new URL("./fixtures/closed-stdout.ts", import.meta.url))
      const { code, stderr } = yield* Effect.promise(
        () =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, [script], { stdio: ["ignore", "pipe", "pipe"] })
            child.stdout.destroy()
            let err = ""
            child.stderr.on("data", (chunk: Buffer) => {
              err += chunk.toString("utf8")
            })
            child.on("close", (exitCode) => resolve({ code: exitCode, stderr: err }))
          })
      )
      assert.strictEqual(code, 0, stderr)
      const outcomes = JSON.parse(stderr.trim().split("\n").at(-1) ?? "[]") as Array<PublishOutcome>
      assert.deepStrictEqual(
        outcomes.map((o) => o._tag),
        ["Retryable", "Retryable", "Retryable"]
      )
      assert.include(errorOf(outcomes[0]), "stdout is closed (EPIPE)")
    }),
  // Starting a Node process that loads effect takes seconds on a busy machine.
  60_000
)
