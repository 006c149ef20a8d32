/**
 * The SubscriptionStore and Subscription contracts on PGlite: one in-memory instance for the file,
 * each case in a fresh schema of it (dropped afterwards), as PgliteEventStore.integration.test.ts does.
 */
import { subscriptionSuite } from "@sluice/core/vitest"
import { freshPgliteLayer, sharedPglite } from "./utils.ts"

const pglite = freshPgliteLayer(sharedPglite())

subscriptionSuite("pglite", pglite, { time: "real" })
