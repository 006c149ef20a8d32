/**
 * The core EventStore contract on PGlite, started as the store starts it (Pglite.create). Starting
 * PGlite takes seconds, so one in-memory instance, started before the first case, serves the whole
 * file and each case gets a fresh schema in it (dropped afterwards).
 */
import { eventStoreSuite, rawPayloadSuite } from "@sluice/core/vitest"
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

eventStoreSuite("pglite", freshPgliteLayer, { time: "real" })
rawPayloadSuite("pglite", freshPgliteLayer, { time: "real" })
