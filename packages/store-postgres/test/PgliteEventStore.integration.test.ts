/**
 * The core EventStore contract on PGlite, started as the store starts it (Pglite.create). Starting
 * PGlite takes seconds, so one in-memory instance, started before the first case, serves the whole
 * file and each case gets a fresh schema in it (dropped afterwards).
 */
import { eventStoreSuite, rawPayloadSuite } from "@sluice/core/vitest"
import { freshPgliteLayer, sharedPglite } from "./utils.ts"

const pglite = freshPgliteLayer(sharedPglite())

eventStoreSuite("pglite", pglite, { time: "real" })
rawPayloadSuite("pglite", pglite, { time: "real" })
