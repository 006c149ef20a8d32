/** Test support: webhooks for a push source, signed as Standard Webhooks senders sign them. */
import { createHmac } from "node:crypto"

/** The body of push webhook `n`: one `order.created` event of entity `o-<n>`. */
export const orderBody = (n: number): string =>
  JSON.stringify({ event_type: "order.created", entity_type: "order", entity_id: `o-${n}`, payload: { n } })

/** The headers of delivery `id` of `body`, signed with `secret` (`whsec_<base64 key>`) now. */
export const signedHeaders = (secret: string, id: string, body: string): Record<string, string> => {
  const timestamp = Math.floor(Date.now() / 1000)
  const key = Buffer.from(secret.slice("whsec_".length), "base64")
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64")
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": `v1,${signature}`
  }
}
