/** The transport's crypto over node:crypto: synchronous HMAC and SHA-1, no promise per signature. */
import { Buffer } from "node:buffer"
import { createHash, createHmac } from "node:crypto"
import { Effect } from "effect"
import type { HmacKey, WebhookCrypto } from "../WebhookCrypto.ts"

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")

/** UUIDv5 (RFC 9562 §5.5): SHA-1 of the namespace's 16 bytes then the UTF-8 name, version 5, RFC variant. */
const uuidV5 = (namespace: string, name: string): string => {
  const bytes = createHash("sha1")
    .update(Buffer.from(namespace.replace(/-/g, ""), "hex"))
    .update(name, "utf8")
    .digest()
    .subarray(0, 16)
  bytes[6] = (bytes[6]! & 0x0f) | 0x50
  bytes[8] = (bytes[8]! & 0x3f) | 0x80
  const h = hex(bytes)
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export const nodeCrypto: WebhookCrypto["Service"] = {
  importHmacKey: (raw) =>
    Effect.sync((): HmacKey => {
      const key = Buffer.from(raw)
      return (content) => Effect.sync(() => createHmac("sha256", key).update(content).digest("base64"))
    }),
  uuidV5
}
