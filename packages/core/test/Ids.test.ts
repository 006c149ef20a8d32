import { assert, describe, expect, it } from "@effect/vitest"
import { Effect, Random, Schema } from "effect"
import type { Random as RandomService } from "effect/Random"
import { TestClock } from "effect/testing"
import { EventId, TraceId } from "../src/Event.ts"
import {
  deterministicEventId,
  nextSpanId,
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

/** A Random that always draws `double` (and `int` for nextIntUnsafe). */
const constantRandom = (double: number, int = 0): RandomService => ({
  nextDoubleUnsafe: () => double,
  nextIntUnsafe: () => int
})

/** The largest double below 1: the top of Random's [0, 1). */
const topDraw = 1 - 2 ** -53

const spanIdFormat = /^(?!0{16})[0-9a-f]{16}$/

describe("span ids (W3C parent-id)", () => {
  // Drawn with nextIntBetween(0, 0x10000), whose upper bound is inclusive, about one id in 16,000
  // had 17 digits (and so a malformed traceparent).
  it.effect(
    "a million draws are all 16 lower-case hex digits, never all zero",
    () =>
      Effect.gen(function* () {
        let bad = 0
        let example = ""
        for (let i = 0; i < 1_000_000; i++) {
          const id = yield* nextSpanId
          if (!spanIdFormat.test(id)) {
            bad++
            example = id
          }
        }
        expect({ bad, example }).toEqual({ bad: 0, example: "" })
      }),
    // CPU-bound: about 1 s here alone, many times that under Deno on a busy machine.
    60_000
  )

  it.effect("the top and the bottom of Random's range give well-formed ids", () =>
    Effect.gen(function* () {
      expect(yield* nextSpanId.pipe(Effect.provideService(Random.Random, constantRandom(topDraw)))).toBe(
        "ffffffffffffffff"
      )
      expect(yield* nextSpanId.pipe(Effect.provideService(Random.Random, constantRandom(0)))).toBe("0000000000000001")
      expect(yield* nextTraceId.pipe(Effect.provideService(Random.Random, constantRandom(topDraw)))).toBe(
        "f".repeat(32)
      )
      expect(yield* nextTraceId.pipe(Effect.provideService(Random.Random, constantRandom(0)))).toBe(
        `${"0".repeat(31)}1`
      )
    })
  )
})

describe("random bits of ids", () => {
  // From Math.random, nextIntUnsafe is always odd: bytes built from it had one bit that never changed.
  it.effect("every bit of a trace id is set in about half of the draws", () =>
    Effect.gen(function* () {
      const draws = 4000
      const ones = new Array<number>(128).fill(0)
      for (let i = 0; i < draws; i++) {
        const id = yield* nextTraceId
        for (let digit = 0; digit < 32; digit++) {
          const nibble = Number.parseInt(id[digit]!, 16)
          for (let bit = 0; bit < 4; bit++) if ((nibble >> bit) & 1) ones[digit * 4 + bit]!++
        }
      }
      const skewed = ones.flatMap((n, bit) => (n < draws * 0.4 || n > draws * 0.6 ? [{ bit, ones: n }] : []))
      expect(skewed).toEqual([])
    })
  )

  it.effect("the random part of a UUIDv7 uses every bit", () =>
    Effect.gen(function* () {
      const draws = 4000
      let and = (1n << 74n) - 1n
      let or = 0n
      for (let i = 0; i < draws; i++) {
        const digits = (yield* nextUuidV7).replace(/-/g, "")
        // rand_a (12 bits after the version) and rand_b (62 bits after the variant)
        const value =
          BigInt(`0x${digits.slice(13, 16)}`) * 2n ** 62n + (BigInt(`0x${digits.slice(16, 32)}`) & ((1n << 62n) - 1n))
        and &= value
        or |= value
      }
      expect({ alwaysSet: and.toString(2), neverSet: ((1n << 74n) - 1n - or).toString(2) }).toEqual({
        alwaysSet: "0",
        neverSet: "0"
      })
    })
  )
})
