import { assert, describe, it } from "@effect/vitest"
import { ClosedConnectionError, headers, InvalidSubjectError } from "@nats-io/nats-core"
import { type Answer, answerOf } from "../src/AckInbox.ts"
import { outcomeOfAnswer, outcomeOfThrown, unanswered } from "../src/Outcome.ts"

const encode = (text: string) => new TextEncoder().encode(text)
const tagOf = (answer: Answer) => {
  const outcome = outcomeOfAnswer(answer, "sluice.quotes")
  return outcome === "NoResponders" ? outcome : outcome._tag
}

describe("answers to publishes", () => {
  it("read an ack (a duplicate too), an API error, the server's no-responders status and anything else", () => {
    assert.deepStrictEqual(answerOf({ data: encode('{"stream":"S","seq":3}') }), {
      _tag: "Ack",
      stream: "S",
      duplicate: false
    })
    assert.deepStrictEqual(answerOf({ data: encode('{"stream":"S","seq":3,"duplicate":true}') }), {
      _tag: "Ack",
      stream: "S",
      duplicate: true
    })
    assert.deepStrictEqual(
      answerOf({ data: encode('{"error":{"code":400,"err_code":10054,"description":"too big"}}') }),
      { _tag: "ApiError", status: 400, code: 10054, description: "too big" }
    )
    const status = headers(503, "No Responders")
    assert.deepStrictEqual(answerOf({ data: new Uint8Array(), headers: status }), { _tag: "NoResponders" })
    assert.strictEqual(answerOf({ data: encode("hello") })._tag, "Unreadable")
  })

  it("an ack is Delivered; a 4xx API error Permanent, a 5xx Retryable; no responders is looked into", () => {
    assert.strictEqual(tagOf({ _tag: "Ack", stream: "S", duplicate: true }), "Delivered")
    assert.strictEqual(tagOf({ _tag: "ApiError", status: 400, code: 10054, description: "too big" }), "Permanent")
    assert.strictEqual(tagOf({ _tag: "ApiError", status: 503, code: 10077, description: "full" }), "Retryable")
    assert.strictEqual(tagOf({ _tag: "NoResponders" }), "NoResponders")
    assert.strictEqual(tagOf({ _tag: "Unreadable", text: "hello" }), "Retryable")
  })

  it("a publish the client refused: a bad subject is Permanent, a closed connection Retryable; each names the subject", () => {
    const bad = outcomeOfThrown(new InvalidSubjectError("sluice.a b"), "sluice.a b")
    assert.strictEqual(bad._tag, "Permanent")
    const closed = outcomeOfThrown(new ClosedConnectionError(), "sluice.quotes")
    assert.strictEqual(closed._tag, "Retryable")
    assert.include(closed._tag === "Retryable" ? closed.error : "", '"sluice.quotes"')
    const late = unanswered("sluice.quotes", 1000, true)
    assert.include(
      late._tag === "Retryable" ? late.error : "",
      'within 1000 ms publishing to "sluice.quotes" (cut by the publish\'s deadline)'
    )
  })
})
