/** What `sluice` prints for a failure: never a bare `error: `. */
import { assert, describe, it } from "@effect/vitest"
import { Data, Exit } from "effect"
import { HttpServerError } from "effect/http"
import { failureText } from "../src/ExitCode.ts"

class Silent extends Data.TaggedError("Silent")<{ readonly cause?: unknown }> {}

describe("failure text", () => {
  it("an error with an empty message prints its tag and its cause (the admin port in use)", () => {
    const serve = new HttpServerError.ServeError({
      cause: new Error("listen EADDRINUSE: address already in use 127.0.0.1:9464")
    })
    assert.strictEqual(serve.message, "")
    assert.strictEqual(
      failureText(Exit.fail(serve)),
      "error: ServeError: listen EADDRINUSE: address already in use 127.0.0.1:9464"
    )
    assert.strictEqual(failureText(Exit.fail(new Silent({}))), "error: Silent")
    assert.strictEqual(
      failureText(Exit.fail(new Silent({ cause: new Silent({ cause: "disk full" }) }))),
      "error: Silent: Silent: disk full"
    )
  })

  it("a message is printed as it is", () => {
    assert.strictEqual(failureText(Exit.fail(new Error("no dead letter with id 9"))), "error: no dead letter with id 9")
  })
})
