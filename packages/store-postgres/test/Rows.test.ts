/**
 * A claimed row becomes a Claimed: the entry completed from what the claimer knows (pending, its
 * own lease), and an event decoded only when first read, then kept.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime } from "effect"
import { type ClaimRow, toClaimed } from "../src/Rows.ts"

const row: ClaimRow = {
  outbox_id: "42",
  event_id: "0190a000-0000-7000-8000-000000000001",
  route: "r",
  topic: "t",
  attempts: 2,
  next_attempt_at: new Date("2026-01-02T03:04:05.006Z"),
  lease_token: "0190a000-0000-4000-8000-00000000000a",
  lease_expires_at: new Date("2026-01-02T03:04:35.006Z"),
  last_error: "HTTP 503",
  ordering_key: null,
  replays: 1,
  created_at: new Date("2026-01-02T03:04:00.000Z"),
  event_type: "quote.updated",
  entity_id: "SYM1",
  entity_type: "quote",
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  schema_version: 1,
  occurred_at: new Date("2026-01-02T03:03:59.000Z"),
  payload: '{"price": 101.2, "symbol": "SYM1"}',
  supersedes: null
}

describe("toClaimed", () => {
  it("completes the entry with a pending status, the claimer's lease and no delivery", () => {
    const { entry } = toClaimed(row, "host/1/0")
    expect(entry.status).toBe("pending")
    expect(entry.delivered_at).toBeNull()
    expect(entry.lease?.owner).toBe("host/1/0")
    expect(entry.lease?.token).toBe(row.lease_token)
    expect(DateTime.toEpochMillis(entry.lease!.expires_at)).toBe(row.lease_expires_at.getTime())
    expect([entry.attempts, entry.replays, entry.last_error]).toEqual([2, 1, "HTTP 503"])
  })

  it("decodes the event from its JSON text when read, once", () => {
    const claimed = toClaimed(row, "w")
    const event = claimed.event
    expect(event.payload).toEqual({ price: 101.2, symbol: "SYM1" })
    expect(DateTime.toEpochMillis(event.occurred_at)).toBe(row.occurred_at.getTime())
    expect("supersedes" in event).toBe(false)
    expect(claimed.event).toBe(event)
  })

  it("does not parse the payload until the event is read", () => {
    const claimed = toClaimed({ ...row, payload: "not json" }, "w")
    expect(claimed.entry.outbox_id).toBe("42")
    expect(() => claimed.event).toThrow()
  })
})
