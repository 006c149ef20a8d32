import { assert, describe, it } from "@effect/vitest"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Duration } from "effect"
import { planRequests } from "../src/HttpTransport.ts"
import { excerpt, outcomeOf } from "../src/Outcome.ts"
import { parseRetryAfter } from "../src/RetryAfter.ts"

const now = Date.UTC(2026, 0, 2, 3, 4, 5)
const ms = (d: Duration.Duration | undefined) => (d === undefined ? undefined : Duration.toMillis(d))

describe("Retry-After", () => {
  it("reads seconds and HTTP dates from the given now, clamps to [0, max], ignores garbage", () => {
    assert.strictEqual(ms(parseRetryAfter("30", now, 60_000)), 30_000)
    assert.strictEqual(ms(parseRetryAfter(" 0 ", now, 60_000)), 0)
    assert.strictEqual(ms(parseRetryAfter("3600", now, 60_000)), 60_000)
    assert.strictEqual(ms(parseRetryAfter(new Date(now + 45_000).toUTCString(), now, 60_000)), 45_000)
    assert.strictEqual(ms(parseRetryAfter(new Date(now - 45_000).toUTCString(), now, 60_000)), 0)
    assert.strictEqual(parseRetryAfter("soon", now, 60_000), undefined)
    assert.strictEqual(parseRetryAfter("-5", now, 60_000), undefined)
    assert.strictEqual(parseRetryAfter(undefined, now, 60_000), undefined)
  })
})

describe("outcomeOf", () => {
  const answer = (status: number, body = "", headers: Record<string, string> = {}) => ({ status, headers, body })
  it("maps statuses: 2xx delivered, 3xx/4xx permanent, 408/429/5xx retryable, others retryable", () => {
    const tags = [200, 201, 204, 299, 301, 304, 400, 401, 404, 408, 409, 422, 429, 500, 503, 599, 600].map(
      (s) => outcomeOf(answer(s), now, 1000)._tag
    )
    assert.deepStrictEqual(tags, [
      "Delivered",
      "Delivered",
      "Delivered",
      "Delivered",
      "Permanent",
      "Permanent",
      "Permanent",
      "Permanent",
      "Permanent",
      "Retryable",
      "Permanent",
      "Permanent",
      "Retryable",
      "Retryable",
      "Retryable",
      "Retryable",
      "Retryable"
    ])
  })
  it("keeps a short single-line excerpt of the body", () => {
    assert.strictEqual(excerpt("  a\n\tb  "), "a b")
    assert.strictEqual(excerpt("y".repeat(500)), `${"y".repeat(200)}…`)
  })
})

describe("planRequests", () => {
  const topics = ["a", "b", "a", "a", "b", "a"]
  const batch = topics.map((topic, i) => TransportContract.envelope(makeEvent(), i === 5 ? "other" : "r", topic))
  it("sends each envelope alone in single mode", () => {
    assert.deepStrictEqual(planRequests({ mode: "single", maxBatchSize: 10 }, batch), [[0], [1], [2], [3], [4], [5]])
  })
  it("groups by route and topic in order of appearance, in chunks of maxBatchSize", () => {
    assert.deepStrictEqual(planRequests({ mode: "batch", maxBatchSize: 2 }, batch), [[0, 2], [1, 4], [3], [5]])
    assert.deepStrictEqual(planRequests({ mode: "batch", maxBatchSize: 100 }, batch), [[0, 2, 3], [1, 4], [5]])
    assert.deepStrictEqual(planRequests({ mode: "batch", maxBatchSize: 100 }, []), [])
  })
})
