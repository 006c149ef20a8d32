/** The core README's stream example in memory. */
import { describe, expect, it } from "@effect/vitest"
import { EventStore, layerMemory, OutboxAdmin, streamName, WrongExpectedRevisionError } from "@sluice/core"
import { Effect } from "effect"
import { deposited, depositTotal, twoDeposits } from "./streams.ts"

describe("README stream example", () => {
  it.effect("appends hand-made events with expected revisions and outbox rows, and reads them back", () =>
    Effect.gen(function* () {
      expect(yield* twoDeposits).toEqual([
        { revision: 0, raw_id: null, payload: { amount: 100 } },
        { revision: 1, raw_id: null, payload: { amount: 50 } }
      ])
      const outbox = yield* OutboxAdmin.use((admin) => admin.listOutbox({}))
      expect(outbox.map((row) => row.route)).toEqual(["ledger", "ledger"])
      const store = yield* EventStore
      const stale = yield* store
        .appendToStream(
          streamName("account", "alice"),
          { raw: null, events: [yield* deposited("alice", 1)], outbox: [] },
          { expectedRevision: 0 }
        )
        .pipe(Effect.flip)
      expect(stale).toBeInstanceOf(WrongExpectedRevisionError)
    }).pipe(Effect.provide(layerMemory))
  )

  it.effect("catches up once over the log, then only over what came since its checkpoint", () =>
    Effect.gen(function* () {
      yield* twoDeposits
      expect(yield* depositTotal).toEqual({ total: 150, events: 2, batches: 1 })
      const more = yield* deposited("bob", 7)
      yield* EventStore.use((store) => store.append({ raw: null, events: [more], outbox: [] }))
      expect(yield* depositTotal).toEqual({ total: 7, events: 1, batches: 1 })
    }).pipe(Effect.provide(layerMemory))
  )
})
