/**
 * The SubscriptionStore and Subscription contracts on PGlite: one in-memory instance for the file,
 * each case in a fresh schema of it (dropped afterwards), as PgliteEventStore.integration.test.ts does.
 */
import { subscriptionSuite } from "@sluice/core/vitest"
import { Effect, Layer } from "effect"
import { PgEventStore } from "../src/index.ts"
import { freshSchemaName, sharedPglite } from "./utils.ts"

const shared = sharedPglite()

const freshPgliteLayer = Layer.unwrap(
  Effect.gen(function* () {
    const pg = shared()
    const schema = freshSchemaName("pglite")
    yield* Effect.addFinalizer(() => Effect.promise(() => pg.exec(`DROP SCHEMA ${schema} CASCADE`)))
    return PgEventStore.layerPgliteInstance(pg, { schema })
  })
)

subscriptionSuite("pglite", freshPgliteLayer, { time: "real" })
