/**
 * A URL that cannot name a PostgreSQL server is refused before any connection is tried, naming the
 * `url` option and never echoing the URL (it may hold a password).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer } from "effect"
import { PostgresJs } from "../src/index.ts"

describe("PostgresJs.layer with a url that is not PostgreSQL's", () => {
  for (const [url, expected] of [
    ["mysql://root:secret@nope/db", "url: the scheme is mysql: (expected postgres:// or postgresql://)"],
    ["secret-not-a-url", "url: not a URL"]
  ] as const) {
    it.live(`refuses ${url.split(":")[0]}, naming url`, () =>
      Effect.gen(function* () {
        const exit = yield* Effect.exit(Effect.scoped(Layer.build(PostgresJs.layer({ url }))))
        assert.isTrue(Exit.isFailure(exit))
        const text = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
        assert.include(text, expected)
        assert.notInclude(text, "secret")
      })
    )
  }
})
