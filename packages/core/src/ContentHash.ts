/**
 * A raw payload's `content_hash`: the lower-case hex SHA-256 of its body's UTF-8 bytes, computed
 * synchronously for sources outside core (the push handler): Web Crypto's digest is a promise and a
 * job per call, far dearer than hashing a webhook's few hundred bytes in place.
 */
import { Hex } from "effect/encoding"
import { sha256, utf8 } from "./internal/hash.ts"

/** The `content_hash` of a raw payload whose body is `text`. */
export const contentHash = (text: string): string => Hex.encode(sha256(utf8(text)))
