import { describe, expect, it } from "@effect/vitest"
import { hex, sha1, sha256, sha256HexOfText, utf8, uuidV5OfText } from "../src/internal/hash.ts"

const ascii = (s: string) => utf8(s)
const million = "a".repeat(1_000_000)
const twoBlocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"

describe("hash (FIPS 180-4 test vectors)", () => {
  it("SHA-1", () => {
    expect(hex(sha1(ascii("")))).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709")
    expect(hex(sha1(ascii("abc")))).toBe("a9993e364706816aba3e25717850c26c9cd0d89d")
    expect(hex(sha1(ascii(twoBlocks)))).toBe("84983e441c3bd26ebaae4aa1f95129e5e54670f1")
    expect(hex(sha1(ascii(million)))).toBe("34aa973cd4c4daa4f61eeb2bdbad27316534016f")
  })

  it("SHA-256", () => {
    expect(hex(sha256(ascii("")))).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(hex(sha256(ascii("abc")))).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    expect(hex(sha256(ascii(twoBlocks)))).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    expect(hex(sha256(ascii(million)))).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  })

  it("SHA-256 of a text's UTF-8 bytes, hashed in place, as of the encoded bytes", () => {
    expect(sha256HexOfText("")).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    expect(sha256HexOfText(twoBlocks)).toBe("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    // Larger than the reused buffer at first: it grows, and a short text after it still hashes right.
    expect(sha256HexOfText(million)).toBe("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    expect(sha256HexOfText("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    // Every padding case around the block boundary, and multi-byte text.
    for (const text of ["x".repeat(55), "x".repeat(56), "x".repeat(63), "x".repeat(64), "é€😀\ud800x".repeat(9)])
      expect(sha256HexOfText(text)).toBe(hex(sha256(utf8(text))))
  })

  it("UUIDv5 of a name space's bytes and a text (RFC 9562 Appendix A.4)", () => {
    const dns = Uint8Array.from([
      0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0, 0xc0, 0x4f, 0xd4, 0x30, 0xc8
    ])
    expect(uuidV5OfText(dns, "www.example.com")).toBe("2ed6657d-e927-568b-95e1-2665a8aea6a2")
  })

  it("UTF-8 encodes multi-byte characters, surrogate pairs and lone surrogates like TextEncoder", () => {
    expect([...utf8("é€")]).toEqual([0xc3, 0xa9, 0xe2, 0x82, 0xac])
    expect([...utf8("😀")]).toEqual([0xf0, 0x9f, 0x98, 0x80])
    expect([...utf8("\ud800x")]).toEqual([0xef, 0xbf, 0xbd, 0x78])
  })
})
