/**
 * `@sluice/source-nats`: a NATS JetStream durable pull consumer as a Sluice source. Messages are
 * acked only after the pipeline committed them; their identity (`Nats-Msg-Id`, else stream and
 * sequence) makes a redelivery a duplicate, never a second event or raw payload.
 */
export {
  connectionFields,
  MessageMapping,
  NatsAuth,
  NatsSourceConfig,
  NatsTls,
  type Settings,
  settings
} from "./Config.ts"
export { connectionOptions, type NatsConnectOptions, NatsConnector } from "./NatsConnector.ts"
export { make, toRawFetch } from "./NatsSource.ts"
export { NatsSourcePlugin } from "./Plugin.ts"
export { identity, type MessageRequest, transform } from "./Transform.ts"
