import { describe, expect, it } from "@effect/vitest"
import { Hex } from "effect/encoding"
import { sha1, sha256, utf8 } from "../src/internal/hash.ts"

const ascii = (s: string) => utf8(s)
const million = "a".repeat(1_000_000)
const twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

describe("hash (FIPS 180-4 test vectors)", () => {
  it("SHA-1", () => {
    expect(Hex.encode(sha1(ascii("")))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    expect(Hex.encode(sha1(ascii("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d")
    expect(Hex.encode(sha1(ascii(twoBlocks)))).toBe("84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    expect(Hex.encode(sha1(ascii(million)))).toBe("34aa973cd4c4daa4f61eeb2bdbad27316534016f")
  })

  it("SHA-256", () => {
    expect(Hex.encode(sha256(ascii("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(Hex.encode(sha256(ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(Hex.encode(sha256(ascii(twoBlocks)))).toBe(
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    )
    expect(Hex.encode(sha256(ascii(million)))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  })

  it("UTF-8 encodes multi-byte characters, surrogate pairs and lone surrogates like TextEncoder", () => {
    expect([...utf8("é€")]).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac])
    expect([...utf8("😀")]).toEqual([0xf0, 0x9f, 0x98, 0x80])
    expect([...utf8("\ud800x")]).toEqual([0xef, 0xbf, 0xbd, 0x78])
  })
})
