/**
 * The content hash of raw payloads (`RawPayload.content_hash`): the lower-case hex SHA-256 of a
 * text's UTF-8 bytes (lone surrogates as U+FFFD). Core computes it in JavaScript, the same on every
 * runtime; the ingest of a broker source hashes every message, so a runtime entry may provide a
 * native digest instead (the runner provides node:crypto's). Any provided one must give the same hex.
 */
import { Context } from "effect"
import { sha256HexOfText } from "./internal/hash.ts"

/** Lower-case hex SHA-256 of `text`'s UTF-8 bytes. */
export type ContentHasher = (text: string) => string

/** The hasher the ingest pipeline uses. @default core's JavaScript SHA-256 */
export const ContentHash = Context.Reference<ContentHasher>("sluice/ContentHash", {
  defaultValue: () => sha256HexOfText
})
