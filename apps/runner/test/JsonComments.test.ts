/** Comments in JSON config files, and the README's config example read as a config file. */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { decodeConfig } from "../src/ConfigFile.ts"
import { stripComments } from "../src/JsonComments.ts"
import { withEnv } from "./support/config.ts"

describe("comments in JSON config files", () => {
  it("blanks // and /* */ comments outside strings, keeping lines and columns", () => {
    const text =
      '{\n  // a comment\n  "url": "https://x.example/a//b", /* inline */ "s": "/* not one */",\n  "e": "q\\"//"\n}'
    const stripped = stripComments(text)
    assert.deepStrictEqual(JSON.parse(stripped), { url: "https://x.example/a//b", s: "/* not one */", e: 'q"//' })
    assert.strictEqual(stripped.length, text.length)
    assert.strictEqual(stripped.split("\n").length, text.split("\n").length)
  })

  it("leaves an unterminated /* for JSON.parse to refuse", () => {
    assert.throws(() => JSON.parse(stripComments('{"a": 1 /* open')))
  })

  it.effect("the README's config example is valid input", () =>
    Effect.gen(function* () {
      const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
      const example = /```jsonc\n([\s\S]*?)```/.exec(readme)?.[1]
      assert.isDefined(example)
      assert.match(example!, /^\s*\/\/ /m, "the example shows a comment")
      const config = yield* decodeConfig("README.md", JSON.parse(stripComments(example!))).pipe(
        withEnv({
          WEBHOOK_SECRET: `whsec_${Buffer.from("a-secret-of-enough-bytes-for-hmac").toString("base64")}`,
          SLUICE_ADMIN_TOKEN: "0123456789abcdef0123"
        })
      )
      assert.strictEqual(config.routes.length, 1)
    })
  )
})
