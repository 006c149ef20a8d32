/**
 * Contract cases for what plain JavaScript or JSON can pass to the stream calls besides the types'
 * forms: an `expectedRevision` of "3", null or a bigint, a stream whose `entity_id` is empty, a
 * `readStream` option of the wrong kind. Each is refused with a non-retryable StoreError whose
 * reason names the field, before anything is read or written; none is read as another form. Part of
 * StreamContract's cases, so memory, PGlite and PostgreSQL all run them.
 */
import { Effect } from "effect"
import { EventStore } from "../EventStore.ts"
import { type ExpectedRevision, type ReadStreamOptions, streamName } from "../Stream.ts"
import type { ContractCase } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

let streams = 0
// Distinguishes this process's streams from another's writing to the same database.
const run = Math.random().toString(36).slice(2)
const freshStream = () => streamName("account", `input-${run}-${++streams}`)

const badRevisions: ReadonlyArray<unknown> = [-1, 1.5, Number.NaN, "3", "NO_STREAM", "latest", null, 2n, {}]

const badReads: ReadonlyArray<readonly [options: unknown, field: string]> = [
  [{ from: -1 }, "from"],
  [{ from: "0" }, "from"],
  [{ limit: 2.5 }, "limit"],
  [{ direction: "sideways" }, "direction"]
]

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "appendToStream refuses a malformed expected revision or stream name, naming it, writing nothing",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        const event = makeEvent({ ...stream })
        for (const expectedRevision of badRevisions) {
          const bad = yield* Effect.flip(
            store.appendToStream(stream, yield* makeBatch([event]), {
              expectedRevision: expectedRevision as ExpectedRevision
            })
          )
          yield* check.that(
            bad._tag === "StoreError" && !bad.retryable && bad.reason.startsWith("expectedRevision"),
            `expectedRevision ${String(expectedRevision)}: a non-retryable StoreError naming it, got ${String(bad)}`
          )
        }
        const badNames = [
          [streamName("account", ""), "entity_id"],
          [streamName("", "1"), "entity_type"],
          [streamName("account", "x".repeat(100_000)), "entity_id"]
        ] as const
        for (const [name, field] of badNames) {
          const bad = yield* Effect.flip(store.appendToStream(name, yield* makeBatch([])))
          yield* check.that(
            bad._tag === "StoreError" && bad.reason.startsWith(`the stream's ${field}`) && bad.reason.length < 400,
            `a short StoreError naming the stream's ${field}, got ${String(bad).slice(0, 400)}`
          )
        }
        yield* check.equal((yield* store.readStream(stream)).length, 0, "nothing written")
        const ok = yield* store.appendToStream(stream, yield* makeBatch([event]), { expectedRevision: "no_stream" })
        yield* check.equal(ok.appended, [event.event_id], "a well-formed call still appends")
      })
  },
  {
    name: "readStream refuses malformed options or stream name, naming them; null options read as none",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const stream = freshStream()
        yield* store.appendToStream(stream, yield* makeBatch([makeEvent({ ...stream }), makeEvent({ ...stream })]))
        for (const [options, field] of badReads) {
          const bad = yield* Effect.flip(store.readStream(stream, options as ReadStreamOptions))
          yield* check.that(
            !bad.retryable && bad.reason.startsWith(field),
            `${JSON.stringify(options)}: a StoreError naming ${field}, got ${bad.message}`
          )
        }
        const unnamed = yield* Effect.flip(store.readStream(streamName("account", "")))
        yield* check.that(
          unnamed.reason.startsWith("the stream's entity_id"),
          `a StoreError naming entity_id, got ${unnamed.message}`
        )
        const all = yield* store.readStream(stream, null as unknown as ReadStreamOptions)
        yield* check.equal(all.length, 2, "null options read as none")
      })
  }
]
