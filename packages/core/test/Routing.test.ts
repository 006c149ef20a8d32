import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import { makeRouter, matches, Route } from "../src/Routing.ts"
import { makeEvent } from "../src/testing/fixtures.ts"

describe("routing", () => {
  it.each([
    ["quote.updated", "quote.updated", true],
    ["quote.*", "quote.updated", true],
    ["quote.*", "quote.updated.late", false],
    ["quote.**", "quote.updated.late", true],
    ["quote.**", "quote", true],
    ["**", "anything.at.all", true],
    ["*", "quote.updated", false],
    ["*.updated", "quote.updated", true],
    ["bar.closed", "quote.updated", false],
    ["**.closed", "bar.1m.closed", true]
  ] as const)("%s matches %s: %s", (pattern, type, expected) => {
    expect(matches(pattern, type)).toBe(expected)
  })

  it.effect("a router sends an event to every matching route", () =>
    Effect.gen(function* () {
      const router = yield* makeRouter([
        { name: "quotes", transport: "http", topic: "q", match: ["quote.*"] },
        { name: "all", transport: "console", topic: "all", match: ["**"] },
        { name: "bars", transport: "http", topic: "b", match: ["bar.closed"] }
      ])
      const names = router.routesFor(makeEvent({ event_type: "quote.updated" })).map((r) => r.name)
      expect(names).toEqual(["quotes", "all"])
    })
  )

  it.effect("two routes with one name are refused", () =>
    Effect.gen(function* () {
      const error = yield* Effect.flip(
        makeRouter([
          { name: "x", transport: "a", topic: "", match: ["**"] },
          { name: "x", transport: "b", topic: "", match: ["**"] }
        ])
      )
      expect(error.message).toContain(`"x"`)
    })
  )

  it("the Route schema names bad fields", () => {
    const result = Schema.decodeUnknownExit(Route)(
      { name: "bad name", transport: "", topic: 1, match: [] },
      {
        errors: "all"
      }
    )
    const text = String(result)
    for (const field of ["name", "transport", "topic", "match"]) expect(text).toContain(`["${field}"]`)
  })
})
