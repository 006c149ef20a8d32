import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { ContentHash } from "../src/ContentHash.ts"

describe("ContentHash", () => {
  it("defaults to the lower-case hex SHA-256 of the text's UTF-8 bytes", () => {
    const hash = Effect.runSync(
      Effect.gen(function* () {
        return yield* ContentHash
      })
    )
    expect(hash("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(hash('{"price":1.5}')).toBe("1a0d24dc0306e62fe888138847a83f835ce78310bc1955d21030ead5eb31968a")
    expect(hash("Zürich 東京 🚀")).toBe("6a01fe81d2b075b3234e060aae8bbd155005035aae1faf70c004b03c2fe7f1e7")
  })
})
