/**
 * The core README's upcasting example: `position.bought` gained a field in version 2; events stored
 * at version 1 are read (and, on one route, published) as version 2. `upcasting.test.ts` tests it.
 */
// #region upcasting
import { type Route, Upcaster, Upcasters } from "@sluice/core"
import { Schema } from "effect"

// Version 1 had the shares only; version 2 adds the price paid (unknown for older trades).
const BoughtV1 = Schema.Struct({ shares: Schema.Int })
const BoughtV2 = Schema.Struct({ shares: Schema.Int, price: Schema.NullOr(Schema.Number) })

/** Provide it with the store: reads, subscriptions, commands and "latest" routes see version 2. */
export const upcasters = Upcasters.layer([
  Upcaster.make({
    event_type: "position.bought",
    from: 1,
    source: BoughtV1,
    target: BoughtV2,
    upcast: (v1) => ({ ...v1, price: null })
  })
])

/** Consumers of this route get version 2 whatever version was stored. */
export const tradeRoutes: ReadonlyArray<Route> = [
  { name: "trades-v2", transport: "webhook", topic: "trades", match: ["position.*"], publish: "latest" }
]
// #endregion upcasting
