/**
 * Contract cases for events made in code that the `Event` schema refuses (an `event_type` with a
 * space, an empty `entity_id`, a `schema_version` of -3, ids that are not ids, a payload holding
 * NaN): `append`, `appendToStream` and `appendAll` refuse the whole batch, not retryable, naming the
 * field, and store none of it. Part of EventStoreContract's cases, so memory, PGlite and PostgreSQL all run them.
 */
import { Effect, Option } from "effect"
import type { Event, EventId, TraceId } from "../Event.ts"
import { EventStore } from "../EventStore.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import { streamName } from "../Stream.ts"
import type { ContractCase } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

const invalid: ReadonlyArray<readonly [field: string, overrides: Partial<Event>]> = [
  ["event_type", { event_type: "Account Deposited" }],
  ["entity_id", { entity_id: "" }],
  ["entity_type", { entity_type: "" }],
  ["schema_version", { schema_version: -3 }],
  ["schema_version", { schema_version: 1.5 }],
  ["event_id", { event_id: "NOT-A-UUID" as EventId }],
  ["trace_id", { trace_id: "xyz" as TraceId }],
  ["supersedes", { supersedes: "nope" as EventId }],
  // Not JSON, deep in the payload: named by the field's path, not just "payload".
  ['["payload"]["n"]', { payload: { n: Number.NaN } }],
  ['["payload"]["quote"]["at"]', { payload: { quote: { at: new Date(0) } } as unknown as Event["payload"] }],
  ['["payload"]["list"][1]', { payload: { list: [1, undefined] } as unknown as Event["payload"] }]
]

const nothingStored = (rawId: string | undefined) =>
  Effect.gen(function* () {
    const store = yield* EventStore
    yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event stored")
    yield* check.equal((yield* (yield* OutboxAdmin).stats).pending, 0, "no outbox row")
    if (rawId !== undefined) yield* check.that(Option.isNone(yield* store.getRaw(rawId as never)), "no raw payload")
  })

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "append and appendAll refuse an event the Event schema refuses, naming the field, and store none of the batch",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        for (const [field, overrides] of invalid) {
          const batch = yield* makeBatch([makeEvent(), makeEvent(overrides)])
          const error = yield* Effect.flip(store.append(batch))
          yield* check.equal([error._tag, error.retryable], ["StoreError", false], `${field}: refused, not retryable`)
          yield* check.that(error.reason.includes(field), `the reason names ${field}: ${error.reason}`)
          yield* check.that(error.reason.includes("event 1"), `the reason says which event: ${error.reason}`)
          yield* nothingStored(batch.raw?.raw_id)
          const all = yield* Effect.flip(store.appendAll([yield* makeBatch([makeEvent()]), batch]))
          yield* check.that(all.reason.includes(field), `appendAll names ${field}: ${all.reason}`)
          yield* nothingStored(undefined)
        }
      })
  },
  {
    name: "appendToStream refuses an event the Event schema refuses, naming the field, and the stream does not move",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = streamName("account", "invalid-event")
        const event = (overrides: Partial<Event>) =>
          makeEvent({ entity_type: stream.entity_type, entity_id: stream.entity_id, ...overrides })
        const batch = { raw: null, events: [event({ event_type: "Account Deposited" })], outbox: [] }
        const error = yield* Effect.flip(store.appendToStream(stream, batch, { expectedRevision: "no_stream" }))
        yield* check.equal(error._tag, "StoreError", "refused as invalid input")
        if (error._tag === "StoreError") {
          yield* check.equal(error.retryable, false, "not retryable")
          yield* check.that(error.reason.includes("event_type"), `the reason names event_type: ${error.reason}`)
        }
        yield* nothingStored(undefined)
        const ok = yield* store.appendToStream(
          stream,
          { raw: null, events: [event({})], outbox: [] },
          {
            expectedRevision: "no_stream"
          }
        )
        yield* check.equal(ok.appended.length, 1, "a valid event still starts the stream")
      })
  }
]
