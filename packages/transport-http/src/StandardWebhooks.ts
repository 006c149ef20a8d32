/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256 under the base64-decoded part of
 * each `whsec_` secret; the `webhook-signature` header lists one `v1,<base64 signature>` per secret,
 * space-separated, so receivers can rotate secrets. The HMAC comes from the `WebhookCrypto` port (Web Crypto
 * unless the runtime provides a faster one).
 */
import { Data, Effect, Redacted } from "effect"
import { whsecKey } from "./HttpTransportConfig.ts"
import { type WebhookCrypto, webCrypto } from "./WebhookCrypto.ts"

/** Signs messages with every configured secret. */
export interface Signer {
  /** The `webhook-signature` header value for this id, Unix-seconds timestamp and exact body text. */
  readonly sign: (id: string, timestamp: number, body: string) => Effect.Effect<string>
}

/** A secret is not a `whsec_` secret. Carries its position only, never the value. */
export class InvalidSecretError extends Data.TaggedError("InvalidSecretError")<{ readonly index: number }> {
  override get message() {
    return `secrets[${this.index}] is not a whsec_<base64 key> secret`
  }
}

/** Imports the secrets' keys once; fails with InvalidSecretError naming the first bad secret. */
export const makeSigner = (
  secrets: ReadonlyArray<Redacted.Redacted<string>>,
  crypto: Pick<WebhookCrypto["Service"], "importHmacKey"> = webCrypto
): Effect.Effect<Signer, InvalidSecretError> =>
  Effect.gen(function* () {
    const keys = yield* Effect.forEach(secrets, (secret, index) => {
      const raw = whsecKey(Redacted.value(secret))
      if (raw === undefined) return Effect.fail(new InvalidSecretError({ index }))
      return Effect.mapError(crypto.importHmacKey(raw), () => new InvalidSecretError({ index }))
    })
    const [only] = keys
    if (keys.length === 1 && only !== undefined) {
      return { sign: (id, timestamp, body) => Effect.map(only(`${id}.${timestamp}.${body}`), (s) => `v1,${s}`) }
    }
    return {
      sign: (id, timestamp, body) => {
        const content = `${id}.${timestamp}.${body}`
        return Effect.map(
          Effect.forEach(keys, (key) => key(content), { concurrency: "unbounded" }),
          (signatures) => signatures.map((signature) => `v1,${signature}`).join(" ")
        )
      }
    }
  })
