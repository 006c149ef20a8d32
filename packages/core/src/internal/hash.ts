/**
 * Pure SHA-1 and SHA-256, and UTF-8 encoding.
 *
 * core may import nothing but `effect`, and Web Crypto's digest is asynchronous; deterministic ids
 * (UUIDv5) and content hashes are computed on the hot path of every ingest, so a small synchronous
 * digest is simpler and runtime-agnostic. It is written for that path: text is encoded into one
 * reused buffer and hashed in place (no copies, no per-block allocations), digests come out as hex
 * directly. Checked against the FIPS 180 test vectors in test/hash.test.ts.
 */

/**
 * Writes the UTF-8 bytes of `text` into `out` from `at` (surrogate pairs combined, lone surrogates
 * as U+FFFD, like TextEncoder) and returns the end. `out` must have room for 3 bytes per code unit.
 */
const encodeInto = (text: string, out: Uint8Array, at: number): number => {
  let n = at
  for (let i = 0; i < text.length; i++) {
    let code = text.charCodeAt(i)
    if (code < 0x80) {
      out[n++] = code
      continue
    }
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const low = text.charCodeAt(i + 1)
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00)
        i++
      } else {
        code = 0xfffd
      }
    } else if (code >= 0xd800 && code <= 0xdfff) {
      code = 0xfffd
    }
    if (code < 0x800) {
      out[n++] = 0xc0 | (code >> 6)
      out[n++] = 0x80 | (code & 63)
    } else if (code < 0x10000) {
      out[n++] = 0xe0 | (code >> 12)
      out[n++] = 0x80 | ((code >> 6) & 63)
      out[n++] = 0x80 | (code & 63)
    } else {
      out[n++] = 0xf0 | (code >> 18)
      out[n++] = 0x80 | ((code >> 12) & 63)
      out[n++] = 0x80 | ((code >> 6) & 63)
      out[n++] = 0x80 | (code & 63)
    }
  }
  return n
}

/** UTF-8 bytes of a string (surrogate pairs combined, lone surrogates as U+FFFD, like TextEncoder). */
export const utf8 = (text: string): Uint8Array => {
  const out = new Uint8Array(text.length * 3)
  return out.subarray(0, encodeInto(text, out, 0))
}

// The message being hashed, padded in place. Digests are synchronous, so one buffer serves all.
let scratch = new Uint8Array(4096)

/** The scratch buffer with room for `bytes` message bytes and their padding. */
const room = (bytes: number): Uint8Array => {
  const needed = Math.ceil((bytes + 9) / 64) * 64
  if (scratch.length < needed) scratch = new Uint8Array(Math.max(needed, scratch.length * 2))
  return scratch
}

/**
 * Pads the `length` message bytes in `buffer` the way SHA-1 and SHA-256 both do (0x80, zeros, the
 * 64-bit big-endian bit length) and returns the padded length, a multiple of 64.
 */
const pad = (buffer: Uint8Array, length: number): number => {
  const end = Math.ceil((length + 9) / 64) * 64
  buffer[length] = 0x80
  buffer.fill(0, length + 1, end - 8)
  const high = Math.floor(length / 0x20000000)
  const low = (length * 8) >>> 0
  buffer[end - 8] = high >>> 24
  buffer[end - 7] = high >>> 16
  buffer[end - 6] = high >>> 8
  buffer[end - 5] = high
  buffer[end - 4] = low >>> 24
  buffer[end - 3] = low >>> 16
  buffer[end - 2] = low >>> 8
  buffer[end - 1] = low
  return end
}

const w = new Int32Array(80)
const h = new Int32Array(8)

/** SHA-1 of the padded `buffer[0, end)` into `h[0..4]`. */
const sha1Blocks = (buffer: Uint8Array, end: number): void => {
  let h0 = 0x67452301
  let h1 = 0xefcdab89 | 0
  let h2 = 0x98badcfe | 0
  let h3 = 0x10325476
  let h4 = 0xc3d2e1f0 | 0
  for (let offset = 0; offset < end; offset += 64) {
    for (let t = 0; t < 16; t++) {
      const i = offset + t * 4
      w[t] = (buffer[i]! << 24) | (buffer[i + 1]! << 16) | (buffer[i + 2]! << 8) | buffer[i + 3]!
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!
      w[t] = (x << 1) | (x >>> 31)
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    for (let t = 0; t < 80; t++) {
      const f =
        t < 20
          ? ((b & c) | (~b & d)) + 0x5a827999
          : t < 40
            ? (b ^ c ^ d) + 0x6ed9eba1
            : t < 60
              ? ((b & c) | (b & d) | (c & d)) - 0x70e44324
              : (b ^ c ^ d) - 0x359d3e2a
      const temp = (((a << 5) | (a >>> 27)) + f + e + w[t]!) | 0
      e = d
      d = c
      c = (b << 30) | (b >>> 2)
      b = a
      a = temp
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
  }
  h[0] = h0
  h[1] = h1
  h[2] = h2
  h[3] = h3
  h[4] = h4
}

const K256 = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
])

/** SHA-256 of the padded `buffer[0, end)` into `h`. */
const sha256Blocks = (buffer: Uint8Array, end: number): void => {
  let h0 = 0x6a09e667
  let h1 = 0xbb67ae85 | 0
  let h2 = 0x3c6ef372
  let h3 = 0xa54ff53a | 0
  let h4 = 0x510e527f
  let h5 = 0x9b05688c | 0
  let h6 = 0x1f83d9ab
  let h7 = 0x5be0cd19
  for (let offset = 0; offset < end; offset += 64) {
    for (let t = 0; t < 16; t++) {
      const i = offset + t * 4
      w[t] = (buffer[i]! << 24) | (buffer[i + 1]! << 16) | (buffer[i + 2]! << 8) | buffer[i + 3]!
    }
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15]!
      const y = w[t - 2]!
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)
      w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0
    }
    let a = h0
    let b = h1
    let c = h2
    let d = h3
    let e = h4
    let f = h5
    let g = h6
    let hh = h7
    for (let t = 0; t < 64; t++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))
      const t1 = (hh + s1 + ((e & f) ^ (~e & g)) + K256[t]! + w[t]!) | 0
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))
      const t2 = (s0 + ((a & b) ^ (a & c) ^ (b & c))) | 0
      hh = g
      g = f
      f = e
      e = (d + t1) | 0
      d = c
      c = b
      b = a
      a = (t1 + t2) | 0
    }
    h0 = (h0 + a) | 0
    h1 = (h1 + b) | 0
    h2 = (h2 + c) | 0
    h3 = (h3 + d) | 0
    h4 = (h4 + e) | 0
    h5 = (h5 + f) | 0
    h6 = (h6 + g) | 0
    h7 = (h7 + hh) | 0
  }
  h[0] = h0
  h[1] = h1
  h[2] = h2
  h[3] = h3
  h[4] = h4
  h[5] = h5
  h[6] = h6
  h[7] = h7
}

/** The first `words` words of `h` as big-endian bytes. */
const digestBytes = (words: number): Uint8Array => {
  const out = new Uint8Array(words * 4)
  for (let i = 0; i < words; i++) {
    const word = h[i]!
    out[i * 4] = word >>> 24
    out[i * 4 + 1] = word >>> 16
    out[i * 4 + 2] = word >>> 8
    out[i * 4 + 3] = word
  }
  return out
}

/** The bytes hashed: copied into the scratch buffer and padded; returns the padded length. */
const padded = (bytes: Uint8Array): number => {
  const buffer = room(bytes.length)
  buffer.set(bytes)
  return pad(buffer, bytes.length)
}

/** SHA-1 digest (20 bytes). Used only for UUIDv5, as RFC 9562 prescribes; not for security. */
export const sha1 = (bytes: Uint8Array): Uint8Array => {
  const end = padded(bytes)
  sha1Blocks(scratch, end)
  return digestBytes(5)
}

/** SHA-256 digest (32 bytes): the content hash of raw payloads. */
export const sha256 = (bytes: Uint8Array): Uint8Array => {
  const end = padded(bytes)
  sha256Blocks(scratch, end)
  return digestBytes(8)
}

// Every command makes a trace id and an event id: a table, not toString and padStart per byte.
const hexDigits: ReadonlyArray<string> = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"))

/** Lower-case hex of bytes. */
export const hex = (bytes: Uint8Array): string => {
  let out = ""
  for (const byte of bytes) out += hexDigits[byte]
  return out
}

/** Lower-case hex of the first `words` words of `h`. */
const digestHex = (words: number): string => {
  let out = ""
  for (let i = 0; i < words; i++) {
    const word = h[i]!
    out += hexDigits[word >>> 24]! + hexDigits[(word >>> 16) & 0xff]! + hexDigits[(word >>> 8) & 0xff]!
    out += hexDigits[word & 0xff]!
  }
  return out
}

/** The part of the web standard TextEncoder used here (core's types know no DOM or runtime globals). */
interface Utf8Encoder {
  readonly encodeInto: (text: string, into: Uint8Array) => { readonly written: number }
}

// Every runtime core runs on has TextEncoder; its encodeInto is native code.
const encoder = new (globalThis as unknown as { readonly TextEncoder: new () => Utf8Encoder }).TextEncoder()

/** Lower-case hex of the SHA-256 of `text`'s UTF-8 bytes: `hex(sha256(utf8(text)))` without the copies. */
export const sha256HexOfText = (text: string): string => {
  const buffer = room(text.length * 3)
  sha256Blocks(buffer, pad(buffer, encoder.encodeInto(text, buffer).written))
  return digestHex(8)
}

/**
 * The UUIDv5 (RFC 9562 §5.5) of `name` in the name space whose 16 bytes are `namespace`: SHA-1 of
 * the name space and the UTF-8 name, with version 5 and the RFC variant, formatted.
 */
export const uuidV5OfText = (namespace: Uint8Array, name: string): string => {
  const buffer = room(16 + name.length * 3)
  buffer.set(namespace)
  sha1Blocks(buffer, pad(buffer, encodeInto(name, buffer, 16)))
  h[1] = (h[1]! & 0xffff0fff) | 0x5000
  h[2] = (h[2]! & 0x3fffffff) | 0x80000000
  const digits = digestHex(4)
  return `${digits.slice(0, 8)}-${digits.slice(8, 12)}-${digits.slice(12, 16)}-${digits.slice(16, 20)}-${digits.slice(20, 32)}`
}
