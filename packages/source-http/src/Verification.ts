/**
 * Inbound verification: Standard Webhooks signatures (https://www.standardwebhooks.com, the scheme
 * `@sluice/transport-http` signs with) or a bearer token. Web Crypto only (`crypto.subtle`: Node 22,
 * Deno, Bun, edge), so the handler stays runtime-neutral. Comparisons are constant-time:
 * `crypto.subtle.verify` for HMACs, digests compared in full for tokens.
 */

import { ContentHash, type ContentHasher, whsecKey } from "@sluice/core"
import { Data, Duration, Effect, Redacted } from "effect"
import type { AuthConfig } from "./PushConfig.ts"

/** A secret is not a usable `whsec_` secret. Carries its position only, never the value. */
export class InvalidSecretError extends Data.TaggedError("InvalidSecretError")<{ readonly index: number }> {
  override get message() {
    return `auth.secrets[${this.index}] is not a whsec_<base64 key> secret`
  }
}

/** Checks who sent a request; each check answers the reason of a refusal (401), or undefined. */
export interface Verifier {
  /** What `auth` is, kept with each raw payload. */
  readonly kind: AuthConfig["type"]
  /** Checks that need no body (token, headers present, timestamp fresh): refused before reading it. */
  readonly headers: (headers: Headers, nowMillis: number) => string | undefined
  /** Checks over the body's exact bytes (the signature); undefined when `auth` has none. */
  readonly body: ((headers: Headers, body: Uint8Array) => Effect.Effect<string | undefined>) | undefined
}

const encoder = new TextEncoder()

/** At most this many `v1,` signatures are checked per request: a sender lists one per secret. */
const maxSignatures = 10

/** Compares two hex digests of equal length in constant time. */
const sameDigest = (a: string, b: string): boolean => {
  let diff = a.length ^ b.length
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return diff === 0
}

const fromBase64 = (text: string): Uint8Array | undefined => {
  try {
    return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
  } catch {
    return undefined
  }
}

/**
 * The signatures of a `webhook-signature` value: `v1,<base64>` entries separated by spaces. A header
 * sent twice arrives joined by ", " and still parses; other versions are ignored.
 */
export const signaturesOf = (header: string): ReadonlyArray<Uint8Array> =>
  header
    .split(/[\s]+/)
    .map((entry) => entry.replace(/,$/, ""))
    .filter((entry) => entry.startsWith("v1,"))
    .slice(0, maxSignatures)
    .flatMap((entry) => {
      const bytes = fromBase64(entry.slice(3))
      return bytes === undefined || bytes.length !== 32 ? [] : [bytes]
    })

const standardWebhooks = (
  auth: Extract<AuthConfig, { type: "standard-webhooks" }>
): Effect.Effect<Verifier, InvalidSecretError> =>
  Effect.gen(function* () {
    const keys = yield* Effect.forEach(auth.secrets, (secret, index) => {
      const raw = whsecKey(Redacted.value(secret))
      if (raw === undefined) return Effect.fail(new InvalidSecretError({ index }))
      return Effect.tryPromise({
        try: () =>
          crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, { name: "HMAC", hash: "SHA-256" }, false, [
            "verify"
          ]),
        catch: () => new InvalidSecretError({ index })
      })
    })
    const toleranceSeconds = Duration.toSeconds(Duration.fromInputUnsafe(auth.tolerance as Duration.Input))
    return {
      kind: "standard-webhooks",
      headers: (headers, nowMillis) => {
        const id = headers.get("webhook-id")
        const timestamp = headers.get("webhook-timestamp")
        if (id === null || timestamp === null || headers.get("webhook-signature") === null)
          return "missing webhook-id, webhook-timestamp or webhook-signature header"
        if (id.length === 0 || id.length > 256) return "webhook-id must be 1 to 256 characters"
        if (!/^\d{1,12}$/.test(timestamp)) return "webhook-timestamp must be Unix seconds"
        const age = Math.abs(nowMillis / 1000 - Number(timestamp))
        if (age > toleranceSeconds)
          return `webhook-timestamp is ${Math.round(age)} s from now (tolerance ${toleranceSeconds} s)`
        return undefined
      },
      body: (headers, body) => {
        const signatures = signaturesOf(headers.get("webhook-signature") ?? "")
        if (signatures.length === 0) return Effect.succeed("no v1 signature in webhook-signature")
        const prefix = encoder.encode(`${headers.get("webhook-id")}.${headers.get("webhook-timestamp")}.`)
        const signed = new Uint8Array(prefix.length + body.length)
        signed.set(prefix)
        signed.set(body, prefix.length)
        // One promise for every signature and key: one Effect step per request.
        return Effect.promise(async () => {
          for (const signature of signatures)
            for (const key of keys)
              if (await crypto.subtle.verify("HMAC", key, signature as Uint8Array<ArrayBuffer>, signed))
                return undefined
          return "no signature matches"
        })
      }
    }
  })

// Tokens are compared by their SHA-256 digests: equal lengths, so the comparison takes the same time.
const bearer = (auth: Extract<AuthConfig, { type: "bearer" }>, digest: ContentHasher): Verifier => {
  const expected = digest(Redacted.value(auth.token))
  return {
    kind: "bearer",
    headers: (headers) => {
      const header = headers.get("authorization")
      if (header === null || !/^bearer /i.test(header)) return "missing bearer token"
      return sameDigest(digest(header.slice(7).trim()), expected) ? undefined : "wrong bearer token"
    },
    body: undefined
  }
}

/** Builds the verifier of `auth`; secrets are imported once. */
export const makeVerifier = (auth: AuthConfig): Effect.Effect<Verifier, InvalidSecretError> => {
  switch (auth.type) {
    case "standard-webhooks":
      return standardWebhooks(auth)
    case "bearer":
      return Effect.gen(function* () {
        return bearer(auth, yield* ContentHash)
      })
    case "none":
      return Effect.succeed({ kind: "none", headers: () => undefined, body: undefined })
  }
}
