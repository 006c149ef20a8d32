import { layerMemory } from "../src/testing/MemoryEventStore.ts"
import { eventStoreSuite } from "../vitest/index.ts"

eventStoreSuite("memory", layerMemory)
