/**
 * Inbound verification: Standard Webhooks signatures (https://www.standardwebhooks.com, the scheme
 * `@sluice/transport-http` signs with) or a bearer token. Web Crypto only (`crypto.subtle`: Node 22,
 * Deno, Bun, edge), so the handler stays runtime-neutral. Comparisons are constant-time:
 * `crypto.subtle.verify` for HMACs, digests compared in full for tokens.
 */

import { whsecKey } from "@sluice/core"
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
  readonly headers: (headers: Headers, nowMillis: number) => Effect.Effect<string | undefined>
  /** Checks over the body's exact bytes (the signature). */
  readonly body: (headers: Headers, body: Uint8Array) => Effect.Effect<string | undefined>
}

const encoder = new TextEncoder()
const none = Effect.succeed(undefined)

/** At most this many `v1,` signatures are checked per request: a sender lists one per secret. */
const maxSignatures = 10

const digest = (text: string) =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", encoder.encode(text))).pipe(Effect.map((d) => new Uint8Array(d)))

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => {
  let diff = a.length ^ b.length
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i]! ^ b[i]!
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
          return Effect.succeed("missing webhook-id, webhook-timestamp or webhook-signature header")
        if (id.length === 0 || id.length > 256) return Effect.succeed("webhook-id must be 1 to 256 characters")
        if (!/^\d{1,12}$/.test(timestamp)) return Effect.succeed("webhook-timestamp must be Unix seconds")
        const age = Math.abs(nowMillis / 1000 - Number(timestamp))
        if (age > toleranceSeconds)
          return Effect.succeed(`webhook-timestamp is ${Math.round(age)} s from now (tolerance ${toleranceSeconds} s)`)
        return none
      },
      body: (headers, body) =>
        Effect.gen(function* () {
          const prefix = encoder.encode(`${headers.get("webhook-id")}.${headers.get("webhook-timestamp")}.`)
          const signed = new Uint8Array(prefix.length + body.length)
          signed.set(prefix)
          signed.set(body, prefix.length)
          const signatures = signaturesOf(headers.get("webhook-signature") ?? "")
          for (const signature of signatures) {
            for (const key of keys) {
              const ok = yield* Effect.promise(() =>
                crypto.subtle.verify("HMAC", key, signature as Uint8Array<ArrayBuffer>, signed)
              )
              if (ok) return undefined
            }
          }
          return signatures.length === 0 ? "no v1 signature in webhook-signature" : "no signature matches"
        })
    }
  })

const bearer = (auth: Extract<AuthConfig, { type: "bearer" }>): Effect.Effect<Verifier> =>
  Effect.map(digest(Redacted.value(auth.token)), (expected) => ({
    kind: "bearer",
    headers: (headers) => {
      const header = headers.get("authorization")
      if (header === null || !/^bearer /i.test(header)) return Effect.succeed("missing bearer token")
      return Effect.map(digest(header.slice(7).trim()), (given) =>
        sameBytes(given, expected) ? undefined : "wrong bearer token"
      )
    },
    body: () => none
  }))

/** Builds the verifier of `auth`; secrets are imported once. */
export const makeVerifier = (auth: AuthConfig): Effect.Effect<Verifier, InvalidSecretError> => {
  switch (auth.type) {
    case "standard-webhooks":
      return standardWebhooks(auth)
    case "bearer":
      return bearer(auth)
    case "none":
      return Effect.succeed({ kind: "none", headers: () => none, body: () => none })
  }
}
