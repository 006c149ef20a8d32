/**
 * `@sluice/core`: the runtime-agnostic kernel. Imports only `effect`.
 */
export * from "./Event.ts"
export * from "./EventStore.ts"
export * as Ids from "./Ids.ts"
export * as Ingest from "./Ingest.ts"
export * from "./JsonLogger.ts"
export * as Metrics from "./Metrics.ts"
export type { Lease, OutboxEntry, OutboxId, OutboxStatus } from "./Outbox.ts"
export * as Outbox from "./Outbox.ts"
export * as Plugin from "./Plugin.ts"
export * as Relay from "./Relay.ts"
export * from "./RetryPolicy.ts"
export * from "./Routing.ts"
export * from "./Source.ts"
export * from "./Sources.ts"
export * from "./Transport.ts"
export * from "./Transports.ts"
