import { layerMemory } from "../src/MemoryEventStore.ts"
import { subscriptionSuite } from "../vitest/index.ts"

subscriptionSuite("memory", layerMemory)
