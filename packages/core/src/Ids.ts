/**
 * Event ids and trace ids.
 *
 * - UUIDv5 (RFC 9562 §5.5) of (source, natural key) when a source knows what makes an event unique
 *   (a symbol and a market time): fetching the same data twice yields the same id, and the store
 *   drops the duplicate.
 * - UUIDv7 (RFC 9562 §5.7) otherwise: time-ordered, which keeps B-tree inserts local.
 *
 * Time comes from Effect's Clock and randomness from Effect's Random, so tests are deterministic
 * (TestClock, `Random.withSeed`). Effect's default Random is `Math.random`; an application that wants
 * cryptographic randomness for ids provides its own `Random` reference.
 */
import { Clock, Effect, Random } from "effect"
import type { EventId, RawPayloadId, TraceId } from "./Event.ts"
import { hex, uuidV5OfText } from "./internal/hash.ts"

const parseUuid = (uuid: string): Uint8Array => {
  const digits = uuid.replace(/-/g, "")
  if (!/^[0-9a-fA-F]{32}$/.test(digits)) throw new RangeError(`not a UUID: ${uuid}`)
  const bytes = new Uint8Array(16)
  for (let i = 0; i < 16; i++) bytes[i] = Number.parseInt(digits.slice(i * 2, i * 2 + 2), 16)
  return bytes
}

const formatUuid = (bytes: Uint8Array): string => {
  const h = hex(bytes)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`
}

/** The RFC 9562 name-space ids (Appendix A). */
export const UuidNamespace = {
  DNS: "6ba7b810-9dad-11d1-80b4-00c04fd430c8",
  URL: "6ba7b811-9dad-11d1-80b4-00c04fd430c8",
  OID: "6ba7b812-9dad-11d1-80b4-00c04fd430c8",
  X500: "6ba7b814-9dad-11d1-80b4-00c04fd430c8"
} as const

// Parsed name spaces: a handful per process (Sluice's own and the RFC's), each id needs its bytes.
const namespaces = new Map<string, Uint8Array>()
const namespaceBytes = (namespace: string): Uint8Array => {
  let bytes = namespaces.get(namespace)
  if (bytes === undefined) {
    bytes = parseUuid(namespace)
    if (namespaces.size < 64) namespaces.set(namespace, bytes)
  }
  return bytes
}

/** UUIDv5: SHA-1 of namespace bytes + UTF-8 name, with version 5 and the RFC variant. */
export const uuidV5 = (namespace: string, name: string): string => uuidV5OfText(namespaceBytes(namespace), name)

/**
 * UUIDv7 from a Unix time in milliseconds and 10 random bytes: 48-bit big-endian timestamp, version 7,
 * then 74 random bits around the RFC variant.
 */
export const uuidV7 = (unixMillis: number, random: Uint8Array): string => {
  if (random.length < 10) throw new RangeError("uuidV7 needs 10 random bytes")
  const bytes = new Uint8Array(16)
  let ms = Math.max(0, Math.floor(unixMillis))
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes.set(random.subarray(0, 10), 6)
  bytes[6] = (bytes[6]! & 0x0f) | 0x70
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  return formatUuid(bytes)
}

/** The Unix milliseconds of a UUIDv7. */
export const uuidV7Millis = (uuid: string): number => Number.parseInt(uuid.replace(/-/g, "").slice(0, 12), 16)

/**
 * `n` random bytes from `random`, 16 bits per draw: `floor(double * 2^16)` of a double in [0, 1)
 * cannot reach 2^16. (Not `nextIntBetween(0, 0x10000)`: its upper bound is inclusive; not
 * `nextIntUnsafe`: from `Math.random` it is always odd, which fixed one bit in every 32.)
 */
const randomBytesFrom = (random: Random.Random, n: number): Uint8Array => {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i += 2) {
    const word = Math.floor(random.nextDoubleUnsafe() * 0x10000) & 0xffff
    out[i] = word >>> 8
    if (i + 1 < n) out[i + 1] = word & 0xff
  }
  return out
}

// The fiber's Random read directly (as Random.next does): a generator per id cost more garbage
// than the id.
const randomBytes = (n: number): Effect.Effect<Uint8Array> =>
  Effect.withFiber((fiber) => Effect.succeed(randomBytesFrom(fiber.getRef(Random.Random), n)))

/**
 * A UUIDv7 at `unixMillis` with its random bits from `random`: what `nextUuidV7` makes from the
 * fiber's Clock and Random, for a loop that read both once (the ingest of a fetch).
 */
export const uuidV7From = (unixMillis: number, random: Random.Random): string =>
  uuidV7(unixMillis, randomBytesFrom(random, 10))

/** A fresh UUIDv7 at the Clock's current time. */
export const nextUuidV7: Effect.Effect<string> = Effect.flatMap(Clock.currentTimeMillis, (ms) =>
  Effect.map(randomBytes(10), (random) => uuidV7(ms, random))
)

/** A W3C trace id (16 bytes from `random`, never all zero): what `nextTraceId` draws from the fiber's Random. */
export const traceIdFrom = (random: Random.Random): TraceId => {
  const id = hex(randomBytesFrom(random, 16))
  return (/^0+$/.test(id) ? `${id.slice(0, 31)}1` : id) as TraceId
}

/** A fresh W3C trace id (16 random bytes, never all zero). */
export const nextTraceId: Effect.Effect<TraceId> = Effect.withFiber((fiber) =>
  Effect.succeed(traceIdFrom(fiber.getRef(Random.Random)))
)

/** A fresh W3C span id (parent id of a `traceparent`): 8 random bytes as 16 hex digits, never all zero. */
export const nextSpanId: Effect.Effect<string> = Effect.map(randomBytes(8), (bytes) => {
  const id = hex(bytes)
  return id === "0000000000000000" ? "0000000000000001" : id
})

/** A fresh id for a raw payload (one its source gives no key for: see `deterministicRawPayloadId`). */
export const nextRawPayloadId: Effect.Effect<RawPayloadId> = nextUuidV7 as Effect.Effect<RawPayloadId>

/** A fresh, time-ordered event id, for events without a natural key. */
export const nextEventId: Effect.Effect<EventId> = nextUuidV7 as Effect.Effect<EventId>

/** The name space of Sluice's deterministic event ids: UUIDv5(URL, "urn:sluice:event"). */
export const SluiceEventNamespace: string = uuidV5(UuidNamespace.URL, "urn:sluice:event")

/**
 * The deterministic id of the event that `source` identifies by `naturalKey`: the same source and
 * key always give the same id, on every machine and version.
 */
export const deterministicEventId = (source: string, naturalKey: string): EventId =>
  uuidV5(SluiceEventNamespace, `${source}\u0000${naturalKey}`) as EventId

/** The name space of Sluice's deterministic raw payload ids: UUIDv5(URL, "urn:sluice:raw"). */
export const SluiceRawNamespace: string = uuidV5(UuidNamespace.URL, "urn:sluice:raw")

/**
 * The deterministic id of the raw payload that `source` identifies by `key` (`RawFetch.key`, e.g. a
 * JetStream stream and sequence): a payload delivered again gets the id it was stored under, and the
 * store keeps the first copy only. A name space of its own: a raw key never collides with an event's.
 */
export const deterministicRawPayloadId = (source: string, key: string): RawPayloadId =>
  uuidV5(SluiceRawNamespace, `${source}\u0000${key}`) as RawPayloadId
