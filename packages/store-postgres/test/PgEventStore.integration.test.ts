/**
 * The core EventStore contract on PostgreSQL through postgres.js, each case in a fresh schema.
 */
import { eventStoreSuite, rawPayloadSuite } from "@sluice/core/vitest"
import { freshPgLayer } from "./utils.ts"

eventStoreSuite("postgres", freshPgLayer(), { time: "real" })
rawPayloadSuite("postgres", freshPgLayer(), { time: "real" })
