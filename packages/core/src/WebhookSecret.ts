/**
 * A Standard Webhooks signing secret (https://www.standardwebhooks.com): `whsec_` and a base64 key.
 * Shared by what signs (transport-http) and what verifies (source-http).
 */
import { Redacted, Result, Schema } from "effect"
import { Base64 } from "effect/encoding"

/** The base64 key of a `whsec_` secret, or undefined when the text is not one. */
export const whsecKey = (secret: string): Uint8Array | undefined => {
  if (!secret.startsWith("whsec_")) return undefined
  const encoded = secret.slice("whsec_".length)
  if (encoded.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined
  const key = Base64.decode(encoded)
  return Result.isSuccess(key) ? key.success : undefined
}

/** A `whsec_<base64 key>` secret, kept Redacted; a bad one is reported without its value. */
export const WebhookSecret = Schema.RedactedFromValue(Schema.String).pipe(
  Schema.check(
    Schema.makeFilter((secret) => whsecKey(Redacted.value(secret)) !== undefined || "expected whsec_<base64 key>")
  )
)
