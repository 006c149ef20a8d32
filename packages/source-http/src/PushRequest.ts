/**
 * The checks of a push request before its body is read (path, method, media type, declared length,
 * the verifier's header checks) and after (the body's problems, the delivery id): each refusal is
 * an answer, in place, with no Effect.
 */
import { refused, refusedEarly } from "./Answers.ts"
import type { BodyProblem } from "./BodyReader.ts"
import type { HandlerConfig } from "./PushConfig.ts"
import type { Verifier } from "./Verification.ts"

/** A request that passed the checks before its body. */
export interface Checked {
  readonly path: string
  /** The media type, lower case, without parameters. */
  readonly media: string
}

/** The request's path and media type, or the answer refusing it before its body is read. */
export const checkRequest = (
  request: Request,
  config: HandlerConfig,
  verifier: Verifier,
  nowMillis: number
): Checked | Response => {
  const path = URL.parse(request.url)?.pathname
  if (path !== config.path) return refusedEarly(404, { error: "not_found", reason: `POST to ${config.path}` })
  if (request.method !== "POST")
    return refusedEarly(405, { error: "method_not_allowed", reason: "only POST" }, { allow: "POST" })
  const contentType = request.headers.get("content-type") ?? ""
  const media = contentType.split(";")[0]!.trim().toLowerCase()
  if (!config.limits.contentTypes.includes(media))
    return refusedEarly(415, {
      error: "unsupported_media_type",
      reason: `content-type must be one of ${config.limits.contentTypes.join(", ")}`
    })
  const declared = request.headers.get("content-length")
  if (declared !== null && !/^\d+$/.test(declared))
    return refusedEarly(400, { error: "bad_request", reason: "content-length is not a number" })
  if (declared !== null && Number(declared) > config.limits.maxBodyBytes)
    return refusedEarly(413, tooLarge(config.limits.maxBodyBytes))
  const denied = verifier.headers(request.headers, nowMillis)
  if (denied !== undefined) return unauthorized(verifier, denied)
  return { path, media }
}

/** The answer to a body that could not be read. */
export const bodyRefused = (problem: BodyProblem, config: HandlerConfig): Response => {
  if (problem._tag === "TooLarge") return refusedEarly(413, tooLarge(config.limits.maxBodyBytes))
  if (problem._tag === "TooSlow")
    return refusedEarly(408, { error: "timeout", reason: `body not received within ${config.limits.timeout}` })
  return refusedEarly(400, { error: "bad_body", reason: problem.reason })
}

/** The request's delivery id (`webhook-id`, else `Idempotency-Key`), or the answer refusing a bad one. */
export const deliveryIdOf = (request: Request): string | undefined | Response => {
  const deliveryId = request.headers.get("webhook-id") ?? request.headers.get("idempotency-key") ?? undefined
  if (deliveryId !== undefined && (deliveryId.length === 0 || deliveryId.length > 256))
    return refused(400, { error: "bad_delivery_id", reason: "webhook-id / Idempotency-Key: 1 to 256 characters" })
  return deliveryId
}

const tooLarge = (max: number) => ({ error: "too_large", reason: `body larger than ${max} bytes` })

/** 401, with the scheme to use when it is a bearer token. */
export const unauthorized = (verifier: Verifier, reason: string): Response =>
  refusedEarly(
    401,
    { error: "unauthorized", reason },
    verifier.kind === "bearer" ? { "www-authenticate": 'Bearer realm="sluice"' } : {}
  )
