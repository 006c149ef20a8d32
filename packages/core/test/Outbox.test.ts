import { describe, expect, it } from "@effect/vitest"
import { DateTime, Result } from "effect"
import type { EventId } from "../src/Event.ts"
import * as Outbox from "../src/Outbox.ts"

const t = (ms: number) => DateTime.makeUnsafe(ms)
const entry: Outbox.OutboxEntry = {
  outbox_id: "1" as Outbox.OutboxId,
  event_id: "017f22e2-79b0-7cc3-98c4-dc0c0c07398f" as EventId,
  route: "r",
  topic: "t",
  status: "pending",
  attempts: 0,
  next_attempt_at: t(1000),
  lease: null,
  last_error: null,
  ordering_key: null,
  replays: 0,
  created_at: t(1000),
  delivered_at: null
}
const lease = (token: string, expires: number): Outbox.Lease => ({ owner: "w", token, expires_at: t(expires) })
const ok = (step: Result.Result<Outbox.OutboxEntry, Outbox.TransitionRejectedError>) => Result.getOrThrow(step)
const reason = (step: Result.Result<Outbox.OutboxEntry, Outbox.TransitionRejectedError>) =>
  Result.isFailure(step) ? step.failure.reason : "applied"

describe("outbox state machine", () => {
  it("pending -> claimed -> delivered counts one attempt", () => {
    const claimed = ok(Outbox.claim(entry, lease("a", 5000), t(1000)))
    const done = ok(Outbox.deliver(claimed, "a", t(2000)))
    expect([done.status, done.attempts, done.lease, done.delivered_at]).toEqual(["delivered", 1, null, t(2000)])
  })

  it("a row cannot be claimed before it is due, while leased, or once settled", () => {
    expect(reason(Outbox.claim(entry, lease("a", 5000), t(999)))).toBe("not-due")
    const claimed = ok(Outbox.claim(entry, lease("a", 5000), t(1000)))
    expect(reason(Outbox.claim(claimed, lease("b", 9000), t(4999)))).toBe("leased")
    expect(reason(Outbox.claim(claimed, lease("b", 9000), t(5000)))).toBe("applied")
    const done = ok(Outbox.deliver(claimed, "a", t(2000)))
    expect(reason(Outbox.claim(done, lease("c", 9000), t(9000)))).toBe("not-pending")
  })

  it("fencing: only the current, unexpired token may record a result", () => {
    const first = ok(Outbox.claim(entry, lease("a", 5000), t(1000)))
    const second = ok(Outbox.claim(first, lease("b", 9000), t(6000)))
    expect(reason(Outbox.deliver(second, "a", t(6001)))).toBe("stale-lease")
    expect(reason(Outbox.deliver(first, "a", t(5000)))).toBe("stale-lease")
    expect(reason(Outbox.deliver(second, "b", t(6001)))).toBe("applied")
  })

  it("retry keeps the row pending with the error; dead stops it; replay revives it with attempts reset", () => {
    const claimed = ok(Outbox.claim(entry, lease("a", 5000), t(1000)))
    const retried = ok(Outbox.retry(claimed, "a", "503", t(3000), t(1500)))
    expect([retried.status, retried.attempts, retried.last_error, retried.next_attempt_at]).toEqual([
      "pending",
      1,
      "503",
      t(3000)
    ])
    const again = ok(Outbox.claim(retried, lease("b", 9000), t(3000)))
    const dead = ok(Outbox.deadLetter(again, "b", "gave up", t(3500)))
    expect([dead.status, dead.attempts]).toEqual(["dead", 2])
    expect(reason(Outbox.replay(retried, t(4000)))).toBe("not-dead")
    const revived = ok(Outbox.replay(dead, t(4000)))
    expect([revived.status, revived.attempts, revived.replays, revived.last_error]).toEqual([
      "pending",
      0,
      1,
      "gave up"
    ])
  })

  it("release returns the row without counting an attempt", () => {
    const claimed = ok(Outbox.claim(entry, lease("a", 5000), t(1000)))
    const released = ok(Outbox.release(claimed, "a", t(1200)))
    expect([released.lease, released.attempts]).toEqual([null, 0])
    expect(Outbox.isClaimable(released, t(1200))).toBe(true)
  })
})
