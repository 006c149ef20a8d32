/**
 * The handler's answers, all JSON: 2xx once stored, 4xx saying what is wrong with the request (the
 * sender should not retry it unchanged), 5xx/503 with `Retry-After` when trying again later helps.
 */

/** What a 2xx says: the payload is durably stored with its events. */
export interface Accepted {
  readonly raw_id: string
  /** The ids of the request's events, in order (a correction: the id it was stored under). */
  readonly event_ids: ReadonlyArray<string>
  /** Ids stored by this request. */
  readonly appended: ReadonlyArray<string>
  /** Ids already stored (by an earlier delivery, or another request with the same natural key). */
  readonly duplicates: ReadonlyArray<string>
  /** True when the delivery id was seen before: nothing was stored, the ids are the first delivery's. */
  readonly redelivery: boolean
}

/** What a 4xx/5xx says. `raw_id` names the stored payload when the body was kept with its reason. */
export interface Refused {
  readonly error: string
  readonly reason: string
  readonly issues?: ReadonlyArray<string>
  readonly raw_id?: string
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers }
  })

export const accepted = (body: Accepted): Response => json(200, body)

export const refused = (status: number, body: Refused, headers: Record<string, string> = {}): Response =>
  json(status, body, headers)

/** A delivery id already stored with another body (content hash): the sender reused an id, 422. */
export const reusedDeliveryId = (deliveryId: string): Response =>
  json(422, {
    error: "delivery_id_reused",
    reason: `webhook-id / Idempotency-Key ${JSON.stringify(deliveryId)} was already used with a different payload`
  } satisfies Refused)

/** A refusal sent before the body was read: the connection closes so the rest is not read either. */
export const refusedEarly = (status: number, body: Refused, headers: Record<string, string> = {}): Response =>
  json(status, body, { connection: "close", ...headers })

/** Try again later: the store is unavailable, or the server is draining. */
export const unavailable = (reason: string, retryAfterSeconds: number): Response =>
  json(503, { error: "unavailable", reason } satisfies Refused, { "retry-after": String(retryAfterSeconds) })
