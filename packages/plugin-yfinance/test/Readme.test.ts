import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { layerFetch } from "../src/index.ts"
import { tickOnce } from "./example/compose.ts"
import { replay } from "./support/recordings.ts"

const region = (text: string) => {
  const match = /\/\/ #region compose\n([\s\S]*?)\/\/ #endregion/.exec(text)
  return match?.[1]?.trim()
}

describe("README", () => {
  it("shows the compose example exactly as compiled and tested", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    const block = /<!-- example:compose -->\n```ts\n([\s\S]*?)```/.exec(readme)?.[1]?.trim()
    const source = region(readFileSync(new URL("./example/compose.ts", import.meta.url), "utf8"))
    assert.isDefined(source)
    assert.strictEqual(block, source)
  })

  it.effect("the example ingests (replayed Yahoo)", () =>
    Effect.gen(function* () {
      const report = yield* tickOnce
      assert.deepStrictEqual(
        report.payloads.map((p) => p.appended),
        [2]
      )
    }).pipe(Effect.provide(layerFetch(replay().fetch)))
  )
})
