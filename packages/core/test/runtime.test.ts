import { describe, expect, it } from "@effect/vitest"

// `bin/test` runs the core suite twice, setting SLUICE_EXPECT_RUNTIME to "node" and then "deno";
// this proves each run really happened on that runtime (vitest's workers could silently fall back).
const g = globalThis as {
  readonly Deno?: unknown
  readonly process?: { readonly env: Record<string, string | undefined> }
}
const expected = g.process?.env.SLUICE_EXPECT_RUNTIME

describe("runtime", () => {
  it("runs on the runtime bin/test asked for", () => {
    const actual = g.Deno === undefined ? "node" : "deno"
    expect(actual).toBe(expected ?? actual)
  })
})
