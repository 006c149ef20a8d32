/**
 * The chaos checkers themselves (the webhook history's and a stream's): each promise they check is
 * broken on purpose in a small hand-made history, and the checker must say so (a checker that
 * passes everything proves nothing).
 */
import { describe, expect, it } from "vitest"
import { type CheckOptions, type CommittedRow, check } from "./lib/checker.ts"
import { type Answer, History } from "./lib/history.ts"
import { checkStream, type StreamMessage, streamLine } from "./lib/streamChecker.ts"

const options: CheckOptions = {
  maxAttempts: 3,
  ordered: true,
  exactAttempts: true,
  maxDuplicates: 0,
  rolledBack: new Set()
}

const row = (
  event_id: string,
  position: number,
  status: CommittedRow["status"],
  attempts: number,
  last_error: string | null = null
): CommittedRow => ({
  event_id,
  entity_id: "e",
  position,
  status,
  attempts,
  last_error
})

/** A request answered at once; `ok` requests are acknowledged. */
const receive = (history: History, event_id: string, attempt: number, answer: Answer = "ok") => {
  const seq = history.next()
  const done = history.next()
  history.receipts.push({
    seq,
    event_id,
    entity_id: "e",
    attempt,
    at: 0,
    answer,
    ackSeq: answer === "ok" ? done : null,
    doneSeq: done
  })
}

describe("the chaos checker", () => {
  it("accepts a correct history and counts it", () => {
    const h = new History()
    receive(h, "a", 1)
    receive(h, "b", 1, "retryable")
    receive(h, "b", 2, "retryable")
    receive(h, "b", 3, "retryable")
    receive(h, "c", 1)
    const verdict = check(
      [row("a", 1, "delivered", 1), row("b", 2, "dead", 3, "HTTP 503"), row("c", 3, "delivered", 1)],
      h,
      options
    )
    expect(verdict.violations).toEqual([])
    expect(verdict.counts).toEqual({ committed: 3, delivered: 2, duplicates: 0, deadLettered: 1, lost: 0, requests: 5 })
  })

  it("reports a pending row and a delivered row nobody acknowledged as lost", () => {
    const h = new History()
    receive(h, "b", 1, "timeout")
    const verdict = check([row("a", 1, "pending", 0), row("b", 2, "delivered", 1)], h, {
      ...options,
      ordered: false,
      exactAttempts: false
    })
    expect(verdict.counts.lost).toBe(2)
  })

  it("reports a rolled-back event that was sent, and a request for an unknown event", () => {
    const h = new History()
    receive(h, "x", 1)
    receive(h, "y", 1)
    const verdict = check([], h, { ...options, rolledBack: new Set(["x"]) })
    expect(verdict.violations.join("\n")).toMatch(/x was rolled back but was sent/)
    expect(verdict.violations.join("\n")).toMatch(/y, which was never committed/)
  })

  it("accepts a duplicate only across a fault, and within the bound", () => {
    const noFault = new History()
    receive(noFault, "a", 1)
    receive(noFault, "a", 1)
    const loose = { ...options, exactAttempts: false, maxDuplicates: 5 }
    expect(check([row("a", 1, "delivered", 1)], noFault, loose).violations.join("\n")).toMatch(/no fault between/)
    const killed = new History()
    receive(killed, "a", 1)
    killed.mark("SIGKILL", "relay-1")
    receive(killed, "a", 1)
    expect(check([row("a", 1, "delivered", 1)], killed, loose).violations).toEqual([])
    expect(check([row("a", 1, "delivered", 1)], killed, { ...loose, maxDuplicates: 0 }).violations.join("\n")).toMatch(
      /more than/
    )
    const stale = new History()
    receive(stale, "a", 1)
    receive(stale, "a", 1)
    stale.mark("stale-completion", "relay-1")
    expect(check([row("a", 1, "delivered", 1)], stale, loose).violations).toEqual([])
    // A batch whose results may not have been recorded (its completion failed) explains a later
    // redelivery of what it had sent, and nothing it had not sent yet.
    const failed = new History()
    receive(failed, "a", 1)
    failed.mark("failed-batch", "relay-1")
    receive(failed, "a", 1)
    expect(check([row("a", 1, "delivered", 1)], failed, loose).violations).toEqual([])
    const failedEarlier = new History()
    failedEarlier.mark("failed-batch", "relay-1")
    receive(failedEarlier, "a", 1)
    receive(failedEarlier, "a", 1)
    expect(check([row("a", 1, "delivered", 1)], failedEarlier, loose).violations.join("\n")).toMatch(/no fault between/)
    // Nor one logged after the redelivery: the lease it lost had to run out first.
    const failedLater = new History()
    receive(failedLater, "a", 1)
    receive(failedLater, "a", 1)
    failedLater.mark("failed-batch", "relay-1")
    expect(check([row("a", 1, "delivered", 1)], failedLater, loose).violations.join("\n")).toMatch(/no fault between/)
  })

  it("reports per-entity order broken on an ordered route", () => {
    const h = new History()
    receive(h, "second", 1)
    receive(h, "first", 1)
    const verdict = check([row("first", 1, "delivered", 1), row("second", 2, "delivered", 1)], h, options)
    expect(verdict.violations.join("\n")).toMatch(/order broken for entity e/)
  })

  it("reports inexact attempts: a dead letter before the ceiling, a row that skipped an attempt, a reason that names nothing", () => {
    const h = new History()
    receive(h, "a", 1, "retryable")
    receive(h, "a", 2, "retryable")
    receive(h, "b", 2)
    receive(h, "c", 1, "retryable")
    receive(h, "c", 2, "retryable")
    receive(h, "c", 3, "retryable")
    const verdict = check(
      [row("a", 1, "dead", 2, "HTTP 503"), row("b", 2, "delivered", 2), row("c", 3, "dead", 3, "something")],
      h,
      { ...options, ordered: false }
    )
    const text = verdict.violations.join("\n")
    expect(text).toMatch(/dead letter a after 2 attempts, expected exactly 3/)
    expect(text).toMatch(/b: 2 attempts recorded, requests carried attempts \[2\]/)
    expect(text).toMatch(/dead letter c: reason "something" does not name its last failure/)
  })
})

describe("the stream checker", () => {
  const message = (seq: number, id: string | null, body: string | null = id): StreamMessage => ({
    seq,
    subject: "sluice.chaos.chaos.written",
    msgId: id,
    eventId: body
  })

  it("accepts a stream holding every committed event once, and counts it", () => {
    const verdict = checkStream(
      [row("a", 1, "delivered", 1), row("b", 2, "delivered", 3)],
      [message(1, "a"), message(2, "b")],
      { rolledBack: new Set() }
    )
    expect(verdict.violations).toEqual([])
    expect(verdict.counts).toEqual({
      committed: 2,
      inStream: 2,
      duplicatesInStream: 0,
      lost: 0,
      delivered: 2,
      deadLettered: 0
    })
    expect(streamLine(verdict.counts)).toBe("stream: committed 2 / in stream 2 / duplicates in stream 0 / lost 0")
  })

  it("reports a lost and a duplicated message", () => {
    const verdict = checkStream(
      [row("a", 1, "delivered", 1), row("b", 2, "delivered", 1), row("c", 3, "delivered", 2)],
      [message(1, "a"), message(2, "c"), message(3, "c")],
      { rolledBack: new Set() }
    )
    const text = verdict.violations.join("\n")
    expect(text).toMatch(/LOST b: status delivered, not in the stream/)
    expect(text).toMatch(/DUPLICATE c stored 2 times \(#2, #3\)/)
    expect(verdict.counts).toMatchObject({ committed: 3, inStream: 3, duplicatesInStream: 1, lost: 1 })
  })

  it("reports a dead letter and a pending row, though stored, as broken promises", () => {
    const verdict = checkStream(
      [row("a", 1, "dead", 5, "publish timed out"), row("b", 2, "pending", 2)],
      [message(1, "a"), message(2, "b")],
      { rolledBack: new Set() }
    )
    const text = verdict.violations.join("\n")
    expect(text).toMatch(/dead letter a should have been delivered: publish timed out/)
    expect(text).toMatch(/b is pending after 2 attempts/)
    expect(verdict.counts).toMatchObject({ deadLettered: 1, lost: 0 })
  })

  it("reports an entity's events stored out of order on an ordered route, by their first copy", () => {
    const rows = [row("first", 1, "delivered", 1), row("second", 2, "delivered", 1), row("third", 3, "delivered", 1)]
    const resent = [message(1, "first"), message(2, "second"), message(3, "first"), message(4, "third")]
    expect(checkStream(rows, resent, { rolledBack: new Set(), ordered: true }).violations.join("\n")).toMatch(
      /DUPLICATE first/
    )
    expect(checkStream(rows, resent, { rolledBack: new Set(), ordered: true }).violations).toHaveLength(1)
    const swapped = [message(1, "second"), message(2, "first"), message(3, "third")]
    expect(checkStream(rows, swapped, { rolledBack: new Set(), ordered: true }).violations).toEqual([
      "order broken for entity e: second (position 2) stored at #1, before first (position 1) at #2"
    ])
    expect(checkStream(rows, swapped, { rolledBack: new Set() }).violations).toEqual([])
  })

  it("reports a rolled-back or unknown event in the stream, a message without id, and a header naming another event", () => {
    const verdict = checkStream(
      [row("a", 1, "delivered", 1)],
      [message(1, "a", "z"), message(2, "x"), message(3, "y"), message(4, null)],
      { rolledBack: new Set(["x"]) }
    )
    const text = verdict.violations.join("\n")
    expect(text).toMatch(/message #1: Nats-Msg-Id a but the body's event_id is z/)
    expect(text).toMatch(/event x was rolled back but is in the stream \(#2\)/)
    expect(text).toMatch(/message\(s\) #3 carry y, which was never committed/)
    expect(text).toMatch(/message #4 on .* has neither a Nats-Msg-Id nor an event_id/)
  })
})
