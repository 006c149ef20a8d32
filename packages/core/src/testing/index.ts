/**
 * `@sluice/core/testing`: what users unit-test pipelines with, and what adapters are checked by.
 * Everything here runs in memory, takes time from the Clock and needs no database.
 */
export * as check from "./check.ts"
export * as EventStoreContract from "./EventStoreContract.ts"
export * from "./fixtures.ts"
export * as MemoryEventStore from "./MemoryEventStore.ts"
export { layerMemory } from "./MemoryEventStore.ts"
export * as MemoryTransport from "./MemoryTransport.ts"
export * as TransportContract from "./TransportContract.ts"
