/**
 * `@sluice/transport-http/node`: the transport's fastest client and crypto on Node, node:http with a
 * keep-alive Agent and node:crypto (the portable defaults are `fetch` and Web Crypto). Provide
 * `layer()` to the transport's plugin layer (the `sluice` runner does):
 * `HttpTransportPlugin.layer(config, "hooks").pipe(Layer.provide(NodeHttpTransport.layer()))`.
 */
import { Layer } from "effect"
import { WebhookCrypto } from "../WebhookCrypto.ts"
import { WebhookSender } from "../WebhookSender.ts"
import { nodeCrypto } from "./NodeCrypto.ts"
import { type NodeSenderOptions, nodeWebhookSender } from "./NodeWebhookSender.ts"

export { nodeCrypto } from "./NodeCrypto.ts"
export { type NodeSenderOptions, nodeWebhookSender } from "./NodeWebhookSender.ts"

/** The Node sender and crypto, for the transports built under it. */
export const layer = (options: NodeSenderOptions = {}): Layer.Layer<WebhookSender | WebhookCrypto> =>
  Layer.mergeAll(Layer.succeed(WebhookSender, nodeWebhookSender(options)), Layer.succeed(WebhookCrypto, nodeCrypto))
