/**
 * Standard Webhooks verification, written from the specification for the tests, independently of the
 * transport's signer (node:crypto here, Web Crypto there): a receiver's view of a signed request.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

/** Request headers as node:http gives them (lower-case names). */
export type SignedHeaders = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

const single = (value: string | ReadonlyArray<string> | undefined): string | undefined =>
  typeof value === "string" ? value : undefined

/** Why a request does not verify, or undefined when one of its signatures matches one of `secrets`. */
export const verify = (
  headers: SignedHeaders,
  body: string,
  secrets: ReadonlyArray<string>,
  nowSeconds: number,
  toleranceSeconds = 300
): string | undefined => {
  const id = single(headers["webhook-id"])
  const timestamp = single(headers["webhook-timestamp"])
  const signature = single(headers["webhook-signature"])
  if (id === undefined || timestamp === undefined || signature === undefined) return "missing webhook headers"
  if (!/^\d+$/.test(timestamp)) return "timestamp is not Unix seconds"
  if (Math.abs(nowSeconds - Number(timestamp)) > toleranceSeconds) return "timestamp outside tolerance"
  const candidates = signature
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .map((s) => Buffer.from(s.slice(3), "base64"))
  for (const secret of secrets) {
    const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64")
    const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest()
    if (candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected))) return undefined
  }
  return "no signature matches"
}
