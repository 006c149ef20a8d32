/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): the signed content is
 * `{webhook-id}.{webhook-timestamp}.{body}`, signed with HMAC-SHA256 under the base64-decoded part of
 * each `whsec_` secret; the `webhook-signature` header lists one `v1,<base64 signature>` per secret,
 * space-separated, so receivers can rotate secrets. Web Crypto only: runs on Node, Deno and edges.
 */
import { Data, Effect, Redacted } from "effect"
import { whsecKey } from "./HttpTransportConfig.ts"

/** Signs messages with every configured secret. The keys are non-extractable CryptoKeys. */
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

const encoder = new TextEncoder()

const toBase64 = (bytes: ArrayBuffer): string => {
  let binary = ""
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Imports the secrets' keys once; fails with InvalidSecretError naming the first bad secret. */
export const makeSigner = (
  secrets: ReadonlyArray<Redacted.Redacted<string>>
): Effect.Effect<Signer, InvalidSecretError> =>
  Effect.gen(function* () {
    const keys = yield* Effect.forEach(secrets, (secret, index) => {
      const raw = whsecKey(Redacted.value(secret))
      if (raw === undefined) return Effect.fail(new InvalidSecretError({ index }))
      return Effect.tryPromise({
        try: () =>
          crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, [
            "sign"
          ]),
        catch: () => new InvalidSecretError({ index })
      })
    })
    return {
      sign: (id, timestamp, body) =>
        Effect.promise(async () => {
          const content = encoder.encode(`${id}.${timestamp}.${body}`)
          const signatures = await Promise.all(keys.map((key) => crypto.subtle.sign("HMAC", key, content)))
          return signatures.map((signature) => `v1,${toBase64(signature)}`).join(" ")
        })
    }
  })
