/**
 * The SubscriptionStore and Subscription contracts on PostgreSQL through postgres.js, each case in a
 * fresh schema.
 */
import { subscriptionSuite } from "@sluice/core/vitest"
import { freshPgLayer } from "./utils.ts"

subscriptionSuite("postgres", freshPgLayer(), { time: "real" })
