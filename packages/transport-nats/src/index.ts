/**
 * `@sluice/transport-nats`: publishes events to NATS JetStream, one message per event, deduplicated
 * by `Nats-Msg-Id`. See README.md for the config, the guarantees and the duplicate-window caveat.
 */

export { type Answer, answerOf } from "./AckInbox.ts"
export { headerNames, type MsgIdScheme, messageHeaders, msgIdOf, traceparent } from "./Headers.ts"
export { connectionOptions, openConnection } from "./NatsConnection.ts"
export {
  authProblem,
  NatsConnectionConfig,
  NatsTlsConfig,
  natsConnectionFields,
  safeServer
} from "./NatsConnectionConfig.ts"
export { currentConnector, NatsConnector, type NatsConnectorShape } from "./NatsConnector.ts"
export { make, type NatsTransport, NatsTransportPlugin } from "./NatsTransport.ts"
export { EnsureStream, NatsTransportConfig, type NatsTransportConfigInput } from "./NatsTransportConfig.ts"
export { noStream, outcomeOfAnswer, outcomeOfThrown, streamUnavailable, unanswered } from "./Outcome.ts"
export { defaultSubjects, duplicateWindowOf, ensureStream } from "./StreamSetup.ts"
export * as SubjectTemplate from "./SubjectTemplate.ts"
