/** Core's content hash over node:crypto: the same hex as core's JavaScript SHA-256, in native code. */
import { createHash } from "node:crypto"
import type { ContentHasher } from "@sluice/core"

/** Lower-case hex SHA-256 of `text`'s UTF-8 bytes (Node encodes a lone surrogate as U+FFFD, as core does). */
export const nodeContentHash: ContentHasher = (text) => createHash("sha256").update(text, "utf8").digest("hex")
