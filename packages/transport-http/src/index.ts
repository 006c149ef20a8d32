/**
 * `@sluice/transport-http`: webhooks (POST JSON) signed per the Standard Webhooks specification.
 * See README.md for the config, the wire format and the outcome mapping.
 */

export { batchId, HttpTransportPlugin, make, planRequests } from "./HttpTransport.ts"
export { HttpTransportConfig, type HttpTransportConfigInput, WebhookSecret } from "./HttpTransportConfig.ts"
export { excerpt, outcomeOf } from "./Outcome.ts"
export { parseRetryAfter } from "./RetryAfter.ts"
export { InvalidSecretError, makeSigner, type Signer } from "./StandardWebhooks.ts"
export { type HmacKey, WebhookCrypto, webCrypto } from "./WebhookCrypto.ts"
export {
  currentSender,
  describeFailure,
  excerptBytes,
  httpClientSender,
  type Send,
  SendError,
  SendTimeout,
  WebhookSender
} from "./WebhookSender.ts"
