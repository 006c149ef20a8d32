/** The runner's node:crypto content hash gives exactly core's hex, so a payload hashes the same anywhere. */
import { describe, expect, it } from "@effect/vitest"
import { ContentHash } from "@sluice/core"
import { nodeContentHash } from "../src/NodeContentHash.ts"

describe("nodeContentHash", () => {
  it("equals core's SHA-256 for ASCII, multi-byte text, surrogate pairs, a lone surrogate and a long body", () => {
    const portable = ContentHash.defaultValue()
    for (const text of ["", "abc", "é€ 日本", "😀", "a\ud800b", "x".repeat(100_000)])
      expect(nodeContentHash(text)).toBe(portable(text))
    expect(nodeContentHash("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
  })
})
