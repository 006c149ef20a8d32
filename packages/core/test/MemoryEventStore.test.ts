import { layerMemory } from "../src/MemoryEventStore.ts"
import { eventStoreSuite } from "../vitest/index.ts"

eventStoreSuite("memory", layerMemory)
