import { layerMemory } from "../src/MemoryEventStore.ts"
import { eventStoreSuite, rawPayloadSuite } from "../vitest/index.ts"

eventStoreSuite("memory", layerMemory)
rawPayloadSuite("memory", layerMemory)
