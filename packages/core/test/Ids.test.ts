import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Random, Schema } from "effect"
import { TestClock } from "effect/testing"
import { EventId, TraceId } from "../src/Event.ts"
import {
  deterministicEventId,
  nextTraceId,
  nextUuidV7,
  UuidNamespace,
  uuidV5,
  uuidV7,
  uuidV7Millis
} from "../src/Ids.ts"

describe("UUIDv5 (RFC 9562 §5.5)", () => {
  it("matches the RFC 9562 Appendix A.4 test vector", () => {
    expect(uuidV5(UuidNamespace.DNS, "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2")
  })

  it("deterministic event ids depend on both source and key, and are valid event ids", () => {
    const a = deterministicEventId("yahoo", "AAPL@2026-01-02T15:30:00.000Z")
    expect(deterministicEventId("yahoo", "AAPL@2026-01-02T15:30:00.000Z")).toBe(a)
    expect(deterministicEventId("other", "AAPL@2026-01-02T15:30:00.000Z")).not.toBe(a)
    expect(deterministicEventId("yahoo", "AAPL@2026-01-02T15:30:01.000Z")).not.toBe(a)
    expect(a[14]).toBe("5")
    assert.isTrue(Schema.is(EventId)(a))
  })
})

describe("UUIDv7 (RFC 9562 §5.7)", () => {
  it("matches the RFC 9562 Appendix A.6 test vector", () => {
    const random = Uint8Array.from([0x0c, 0xc3, 0x18, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f])
    expect(uuidV7(0x017f22e279b0, random)).toBe("017f22e2-79b0-7cc3-98c4-dc0c0c07398f")
    expect(uuidV7Millis("017f22e2-79b0-7cc3-98c4-dc0c0c07398f")).toBe(0x017f22e279b0)
  })

  it.effect("takes its time from the Clock and sorts by time", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(1_700_000_000_000)
      const first = yield* nextUuidV7
      yield* TestClock.adjust("1 millis")
      const second = yield* nextUuidV7
      expect(uuidV7Millis(first)).toBe(1_700_000_000_000)
      expect(uuidV7Millis(second)).toBe(1_700_000_000_001)
      expect(first < second).toBe(true)
      expect(first[14]).toBe("7")
      expect("89ab").toContain(first[19])
    })
  )

  it.effect("is reproducible under a seeded Random", () =>
    Effect.gen(function* () {
      const a = yield* nextUuidV7.pipe(Random.withSeed("seed"))
      const b = yield* nextUuidV7.pipe(Random.withSeed("seed"))
      const c = yield* nextUuidV7.pipe(Random.withSeed("other"))
      expect(a).toBe(b)
      expect(a).not.toBe(c)
    })
  )
})

describe("trace ids", () => {
  it.effect("are valid W3C trace ids", () =>
    Effect.gen(function* () {
      for (let i = 0; i < 50; i++) assert.isTrue(Schema.is(TraceId)(yield* nextTraceId))
    })
  )
})
