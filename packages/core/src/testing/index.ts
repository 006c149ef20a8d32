/**
 * `@sluice/core/testing`: what users unit-test pipelines with, and what adapters are checked by.
 * Everything here runs in memory, takes time from the Clock and needs no database. The in-memory
 * store itself is a production adapter and lives in `@sluice/core` (`layerMemory`, `MemoryEventStore`).
 */

export * from "./CompetingAppends.ts"
export * as check from "./check.ts"
export * as DeciderSpecification from "./DeciderSpecification.ts"
export * as EventStoreContract from "./EventStoreContract.ts"
export * from "./FailingAppends.ts"
export * from "./fixtures.ts"
export * from "./HeldClock.ts"
export * as MemoryTransport from "./MemoryTransport.ts"
export * as OutboxAdminContract from "./OutboxAdminContract.ts"
export * as OutboxModel from "./OutboxModel.ts"
export * as OutboxQueueContract from "./OutboxQueueContract.ts"
export * as RawPayloadContract from "./RawPayloadContract.ts"
export * as RetentionContract from "./RetentionContract.ts"
export * as StreamContract from "./StreamContract.ts"
export * as SubscriptionContract from "./SubscriptionContract.ts"
export * as SubscriptionRunContract from "./SubscriptionRunContract.ts"
export * as TransportContract from "./TransportContract.ts"
