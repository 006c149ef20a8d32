/**
 * The README's projection example: the read model of the Yahoo events that
 * `@sluice/plugin-yfinance/read-model` ships (the runner loads it as a projection plugin; here it is
 * used in code), kept by an async projection in the same database as the store (so each event is
 * applied exactly once), and rebuilt from scratch by resetting its checkpoint. The test runs it on
 * PGlite against the recorded Yahoo responses the plugin ships.
 */
import { Projection } from "@sluice/core"
import { makeReadModel } from "@sluice/plugin-yfinance/read-model"
import { Effect } from "effect"

// #region run
/** The read model named "yahoo-read-model" (its checkpoint's key), its tables in the public schema. */
export const { setup: createReadModel, projection: yahooReadModel } = makeReadModel("yahoo-read-model", "public")

/** Creates the tables, then keeps the read model up to date in the current scope. */
export const runReadModel = Effect.andThen(createReadModel, Projection.start(yahooReadModel))

/** Empties the read model and replays the whole log into it (a running projection starts over too). */
export const rebuildReadModel = Effect.andThen(Projection.rebuild(yahooReadModel), Projection.catchUp(yahooReadModel))
// #endregion run
