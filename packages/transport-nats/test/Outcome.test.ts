import { assert, describe, it } from "@effect/vitest"
import { JetStreamApiError } from "@nats-io/jetstream"
import { ClosedConnectionError, NoRespondersError, RequestError, TimeoutError } from "@nats-io/nats-core"
import { classify } from "../src/Outcome.ts"

const tagOf = (error: unknown) => {
  const failure = classify(error, "sluice.quotes", 1000)
  return failure._tag === "NoResponders" ? "NoResponders" : failure.outcome._tag
}

describe("outcomes of failed publishes", () => {
  it("no responders, also wrapped as the client wraps it, is left to the stream lookup", () => {
    const noResponders = new RequestError("no responders", { cause: new NoRespondersError("sluice.quotes") })
    assert.strictEqual(tagOf(noResponders), "NoResponders")
    assert.strictEqual(tagOf(new Error("jetstream is not enabled", { cause: noResponders })), "NoResponders")
  })

  it("a timeout or a lost connection is Retryable; a 4xx API error Permanent, a 5xx Retryable", () => {
    assert.strictEqual(tagOf(new TimeoutError()), "Retryable")
    assert.strictEqual(tagOf(new ClosedConnectionError()), "Retryable")
    assert.strictEqual(tagOf(new JetStreamApiError({ code: 503, err_code: 10077, description: "full" })), "Retryable")
    assert.strictEqual(
      tagOf(new JetStreamApiError({ code: 400, err_code: 10054, description: "message size exceeds maximum allowed" })),
      "Permanent"
    )
    assert.strictEqual(tagOf(new Error("something else")), "Retryable")
  })

  it("names the subject", () => {
    const failure = classify(new TimeoutError(), "sluice.quotes", 1000)
    assert.isTrue(failure._tag === "Outcome" && failure.outcome._tag === "Retryable")
    if (failure._tag === "Outcome" && failure.outcome._tag === "Retryable") {
      assert.include(failure.outcome.error, '"sluice.quotes"')
      assert.include(failure.outcome.error, "1000 ms")
    }
  })
})
