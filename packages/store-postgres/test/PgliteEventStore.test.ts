/**
 * The core EventStore contract on PGlite, started as the store starts it (Pglite.create). Starting
 * PGlite takes seconds, so one in-memory instance serves the whole file and each case gets a fresh
 * schema in it (dropped afterwards).
 */
import type { PGlite } from "@electric-sql/pglite"
import { eventStoreSuite } from "@sluice/core/vitest"
import { Effect, Layer } from "effect"
import { afterAll } from "vitest"
import { PgEventStore, Pglite } from "../src/index.ts"
import { freshSchemaName } from "./utils.ts"

let instance: Promise<PGlite> | undefined
const shared = () => {
  instance ??= Pglite.create()
  return instance
}
afterAll(async () => {
  if (instance !== undefined) await (await instance).close()
})

const freshPgliteLayer = Layer.unwrap(
  Effect.gen(function* () {
    const pg = yield* Effect.promise(shared)
    const schema = freshSchemaName("pglite")
    yield* Effect.addFinalizer(() => Effect.promise(() => pg.exec(`DROP SCHEMA ${schema} CASCADE`)))
    return PgEventStore.layerPgliteInstance(pg, { schema })
  })
)

eventStoreSuite("pglite", freshPgliteLayer, { time: "real" })
