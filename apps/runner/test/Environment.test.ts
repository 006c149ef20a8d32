/**
 * The runner reads environment variables through the ConfigProvider in context: a test or an
 * embedding application decides what they are; the executable's provider keeps empty values.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { processEnv, readEnv } from "../src/Environment.ts"
import { withEnv } from "./support/config.ts"

describe("readEnv", () => {
  it.effect("reads the provider's variables; unset ones are absent", () =>
    Effect.gen(function* () {
      const env = yield* readEnv(["A", "B", "A"]).pipe(withEnv({ A: "1", C: "3" }))
      assert.deepStrictEqual(env, { A: "1" })
    })
  )

  it.effect("the executable's provider is the process environment, empty values kept", () =>
    Effect.gen(function* () {
      const name = `SLUICE_TEST_EMPTY_${process.pid}`
      process.env[name] = ""
      try {
        assert.deepStrictEqual(yield* readEnv([name]).pipe(Effect.provide(processEnv)), { [name]: "" })
      } finally {
        delete process.env[name]
      }
    })
  )
})
