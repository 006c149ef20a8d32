import { describe, expect, it } from "@effect/vitest"
import { Effect, Result, Schema } from "effect"
import { Base64, Hex } from "effect/encoding"
import { decodeEvent } from "../src/Event.ts"
import { sha256, utf8 } from "../src/internal/hash.ts"
import { escapeText, jsonProblems, storableRaw, textProblem } from "../src/StorableText.ts"
import { makeRaw } from "../src/testing/fixtures.ts"

const valid = {
  event_id: "017f22e2-79b0-7cc3-98c4-dc0c0c07398f",
  event_type: "quote.updated",
  entity_id: "AAPL",
  entity_type: "instrument",
  trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
  schema_version: 1,
  occurred_at: "2026-01-02T15:30:00.000Z",
  payload: { price: 187.5 }
}

const failure = (input: unknown) =>
  Effect.flip(decodeEvent(input, { errors: "all" })).pipe(Effect.map((error) => error.message))

describe("StorableText: what PostgreSQL text and jsonb can hold", () => {
  it("finds U+0000 and lone surrogates, and accepts surrogate pairs", () => {
    expect(textProblem("plain")).toBeUndefined()
    expect(textProblem("a\ud83d\ude00b")).toBeUndefined()
    expect(textProblem("ab\u0000")).toBe("contains U+0000 at character 2 (PostgreSQL cannot store it)")
    expect(textProblem("a\ud800b")).toMatch(/^contains a lone surrogate U\+D800 at character 1 /)
    expect(textProblem("\udc00")).toMatch(/^contains a lone surrogate U\+DC00 at character 0 /)
    expect(textProblem("\ude00\ud83d")).toMatch(/U\+DE00 at character 0/)
  })

  it("names the path of every bad string and key of a JSON value, at most 10", () => {
    expect(jsonProblems({ a: [1, "x\u0000"], "k\u0000": { ok: "\ud800" } })).toEqual([
      { path: ["a", 1], issue: "contains U+0000 at character 1 (PostgreSQL cannot store it)" },
      { path: ["k\u0000"], issue: "key contains U+0000 at character 1 (PostgreSQL cannot store it)" },
      { path: ["k\u0000", "ok"], issue: expect.stringContaining("lone surrogate U+D800") }
    ])
    expect(jsonProblems(Array.from({ length: 50 }, () => "\u0000"))).toHaveLength(10)
  })

  it("escapes what cannot be stored, visibly", () => {
    expect(escapeText("a\u0000b\ud800c\ud83d\ude00")).toBe("a\\u0000b\\ud800c\ud83d\ude00")
  })

  it.effect("the Event schema refuses such text, naming the field path, keys and entity fields included", () =>
    Effect.gen(function* () {
      const message = yield* failure({
        ...valid,
        entity_id: "a\u0000b",
        entity_type: "x\ud800",
        payload: { name: "a\u0000b", list: ["\udfff"], "k\u0000": 1 }
      })
      expect(message).toContain('contains U+0000 at character 1 (PostgreSQL cannot store it)\n  at ["entity_id"]')
      expect(message).toContain(
        'lone surrogate U+D800 at character 1 (not valid Unicode; PostgreSQL cannot store it)\n  at ["entity_type"]'
      )
      expect(message).toContain('\n  at ["payload"]["name"]')
      expect(message).toContain('\n  at ["payload"]["list"][0]')
      expect(message).toContain(
        'key contains U+0000 at character 1 (PostgreSQL cannot store it)\n  at ["payload"]["k\\u0000"]'
      )
      expect(message.includes("\u0000")).toBe(false)
    })
  )

  it.effect(
    "a raw payload is made storable: body as base64 of its UTF-8 bytes, the rest escaped, each change said",
    () =>
      Effect.gen(function* () {
        const body = '{"name":"a\u0000b\ud800"}'
        const raw = { ...(yield* makeRaw(body)), request: { "q\u0000": "x" }, transform_error: "bad \u0000 id" }
        const stored = yield* storableRaw(raw)
        expect(stored.content_type).toBe("application/json;base64")
        expect(stored.content_hash).toBe(Hex.encode(sha256(utf8(body))))
        // The decoded bytes are the ones the content hash covers (a lone surrogate is U+FFFD in UTF-8).
        expect(Hex.encode(sha256(Result.getOrThrow(Base64.decode(stored.body))))).toBe(stored.content_hash)
        expect(stored.request).toEqual({ "q\\u0000": "x" })
        expect(stored.transform_error?.split("\n")).toEqual([
          "bad \\u0000 id",
          "body contains U+0000 at character 10 (PostgreSQL cannot store it): stored as base64 of its UTF-8 bytes (content_type ends in ;base64)",
          'request["q\\u0000"] key contains U+0000 at character 1 (PostgreSQL cannot store it): stored with escapes (\\u0000)'
        ])
        const clean = yield* makeRaw("{}")
        expect(yield* storableRaw(clean)).toBe(clean)
      })
  )

  it.prop("a stored body decodes to the UTF-8 bytes of the original, for any text", [Schema.String], ([text]) => {
    expect(escapeText(text).includes("\u0000")).toBe(false)
    const bytes = utf8(`\u0000${text}`)
    const stored = Effect.runSync(storableRaw({ ...Effect.runSync(makeRaw("")), body: `\u0000${text}` }))
    expect(stored.body).toMatch(/^[A-Za-z0-9+/]*={0,2}$/)
    expect(Hex.encode(Result.getOrThrow(Base64.decode(stored.body)))).toBe(Hex.encode(bytes))
  })
})
