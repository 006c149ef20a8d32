/**
 * The core README's decider example: a portfolio position that buys and sells shares, run as
 * commands on its stream by a CommandHandler. `decider.test.ts` tests it.
 */

import { CommandHandler, Decider, makeRouter, type Route, streamName } from "@sluice/core"
import { Data, Effect, Schema } from "effect"

// #region decider
/** The position's events, as stored: `type` becomes the event type, `payload` its payload. */
export const PositionEvent = Schema.Union([
  Schema.Struct({ type: Schema.Literal("position.bought"), payload: Schema.Struct({ shares: Schema.Int }) }),
  Schema.Struct({ type: Schema.Literal("position.sold"), payload: Schema.Struct({ shares: Schema.Int }) })
])
export type PositionEvent = typeof PositionEvent.Type

export type PositionCommand =
  | { readonly type: "buy"; readonly shares: number }
  | { readonly type: "sell"; readonly shares: number }

export class NotEnoughShares extends Data.TaggedError("NotEnoughShares")<{
  readonly held: number
  readonly wanted: number
}> {}

export const position = Decider.make({
  initialState: () => ({ shares: 0 }),
  evolve: (state: { readonly shares: number }, event: PositionEvent) => ({
    shares: state.shares + (event.type === "position.bought" ? event.payload.shares : -event.payload.shares)
  }),
  decide: (
    command: PositionCommand,
    state: { readonly shares: number }
  ): Effect.Effect<ReadonlyArray<PositionEvent>, NotEnoughShares> =>
    command.type === "buy"
      ? Effect.succeed([{ type: "position.bought", payload: { shares: command.shares } }])
      : command.shares > state.shares
        ? Effect.fail(new NotEnoughShares({ held: state.shares, wanted: command.shares }))
        : Effect.succeed([{ type: "position.sold", payload: { shares: command.shares } }])
})
// #endregion decider

// #region handle
const routes: ReadonlyArray<Route> = [
  { name: "trades", transport: "webhook", topic: "trades", match: ["position.*"], ordered: true }
]

/** Buys 10 ACME, sells 4, and returns the position after: `{ shares: 6 }`. */
export const trade = Effect.gen(function* () {
  const handler = CommandHandler.make({
    decider: position,
    events: PositionEvent,
    router: yield* makeRouter(routes),
    retries: 3 // starts over this many times when another writer appended first
  })
  const acme = streamName("position", "ACME")
  yield* handler.handle(acme, { type: "buy", shares: 10 })
  const result = yield* handler.handle(acme, { type: "sell", shares: 4 })
  return result.state
})
// #endregion handle
