import { describe, expect, it } from "@effect/vitest"
import { contentHash } from "../src/ContentHash.ts"

describe("contentHash", () => {
  it("is the hex SHA-256 of the body's UTF-8 bytes", () => {
    expect(contentHash("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(contentHash('{"price":1.5}')).toBe("1a0d24dc0306e62fe888138847a83f835ce78310bc1955d21030ead5eb31968a")
    expect(contentHash("Zürich 東京 🚀")).toBe("6a01fe81d2b075b3234e060aae8bbd155005035aae1faf70c004b03c2fe7f1e7")
  })
})
