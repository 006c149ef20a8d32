import { assert, describe, it } from "@effect/vitest"
import { type AppendBatch, EventStore, layerMemory } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Deferred, Effect, Fiber, Layer } from "effect"
import * as GroupCommit from "../src/GroupCommit.ts"

const once = (batch: AppendBatch): AppendBatch => ({ ...batch, once: true })

/**
 * A memory store whose first `append` waits until `release` (an append in flight), recording the
 * batches of each `appendAll`.
 */
const blockedStore = Effect.gen(function* () {
  const context = yield* Layer.build(layerMemory)
  const memory = context.mapUnsafe.get(EventStore.key) as EventStore["Service"]
  const inFlight = yield* Deferred.make<void>()
  const release = yield* Deferred.make<void>()
  const groups: Array<ReadonlyArray<AppendBatch>> = []
  let first = true
  const store = EventStore.of({
    ...memory,
    append: (batch) => {
      if (!first) return memory.append(batch)
      first = false
      return Effect.andThen(
        Effect.andThen(Deferred.succeed(inFlight, undefined), Deferred.await(release)),
        memory.append(batch)
      )
    },
    appendAll: (batches) => {
      groups.push(batches)
      return memory.appendAll(batches)
    }
  })
  return { store, memory, inFlight, release, groups }
})

/** Appends `first` (held in flight), then `waiting` while it is, then lets it finish. */
const appendWhileInFlight = (first: AppendBatch, waiting: ReadonlyArray<AppendBatch>) =>
  Effect.gen(function* () {
    const blocked = yield* blockedStore
    const append = yield* GroupCommit.make(blocked.store)
    const leader = yield* Effect.forkChild(append(first))
    yield* Deferred.await(blocked.inFlight)
    const followers = yield* Effect.forEach(waiting, (batch) => Effect.forkChild(Effect.result(append(batch))))
    yield* Effect.yieldNow
    yield* Deferred.succeed(blocked.release, undefined)
    const leaderResult = yield* Fiber.join(leader)
    const results = yield* Effect.forEach(followers, Fiber.join)
    return { ...blocked, leaderResult, results }
  })

describe("GroupCommit", () => {
  it.effect("deliveries arriving during an append go together in the next one, each answered with its own ids", () =>
    Effect.gen(function* () {
      const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent()]
      const batches = yield* Effect.forEach(events, (event) => Effect.map(makeBatch([event]), once))
      const run = yield* appendWhileInFlight(batches[0]!, batches.slice(1))
      assert.deepStrictEqual(run.leaderResult.appended, [events[0]!.event_id])
      assert.deepStrictEqual(
        run.groups.map((group) => group.length),
        [3],
        "the three that waited: one appendAll"
      )
      assert.deepStrictEqual(
        run.results.map((r) => (r._tag === "Success" ? r.success.appended : r.failure.reason)),
        events.slice(1).map((e) => [e.event_id])
      )
      const stored = yield* Effect.orDie(run.memory.readEvents(0, 10))
      assert.strictEqual(stored.length, 4)
    })
  )

  it.effect("a second delivery of one raw id waits for a later group and is a redelivery", () =>
    Effect.gen(function* () {
      const [a, b, c] = [makeEvent(), makeEvent(), makeEvent()]
      const first = yield* Effect.map(makeBatch([a]), once)
      const x = yield* Effect.map(makeBatch([b]), once)
      const sameId: AppendBatch = { ...(yield* Effect.map(makeBatch([c]), once)), raw: x.raw }
      const y = yield* Effect.map(makeBatch([makeEvent()]), once)
      const run = yield* appendWhileInFlight(first, [x, sameId, y])
      assert.deepStrictEqual(
        run.groups.map((group) => group.map((batch) => batch.events[0]!.event_id)),
        [[b.event_id, y.events[0]!.event_id]],
        "the group leaves the repeated id out"
      )
      const [xResult, sameResult] = run.results.map((r) => (r._tag === "Success" ? r.success : undefined))
      assert.deepStrictEqual(xResult?.appended, [b.event_id])
      assert.strictEqual(sameResult?.redelivered, true)
      const stored = yield* Effect.orDie(run.memory.readEvents(0, 10))
      assert.notInclude(
        stored.map((s) => s.event.event_id),
        c.event_id
      )
    })
  )

  it.effect("a delivery repeating one of its own events waits no longer than the others", () =>
    Effect.gen(function* () {
      const [a, b] = [makeEvent(), makeEvent()]
      const first = yield* Effect.map(makeBatch([makeEvent()]), once)
      const repeats = yield* Effect.map(makeBatch([a, a]), once)
      const other = yield* Effect.map(makeBatch([b]), once)
      const run = yield* appendWhileInFlight(first, [repeats, other])
      assert.deepStrictEqual(
        run.results.map((r) => (r._tag === "Success" ? r.success.appended : r.failure.reason)),
        [[a.event_id], [b.event_id]]
      )
    })
  )

  it.effect("batches appended once and plain ones go in separate groups", () =>
    Effect.gen(function* () {
      const [a, b, c] = [makeEvent(), makeEvent(), makeEvent()]
      const first = yield* Effect.map(makeBatch([makeEvent()]), once)
      const batches = [
        yield* Effect.map(makeBatch([a]), once),
        yield* makeBatch([b]),
        yield* Effect.map(makeBatch([c]), once)
      ]
      const run = yield* appendWhileInFlight(first, batches)
      assert.deepStrictEqual(
        run.groups.map((group) => group.map((batch) => batch.events[0]!.event_id)),
        [[a.event_id, c.event_id]],
        "the once batches together, the plain one alone"
      )
      assert.deepStrictEqual(
        run.results.map((r) => (r._tag === "Success" ? r.success.appended : r.failure.reason)),
        [[a.event_id], [b.event_id], [c.event_id]]
      )
    })
  )

  it.effect("a group refused for one bad delivery: each appended alone, the others stored", () =>
    Effect.gen(function* () {
      const [a, b, c] = [makeEvent(), makeEvent(), makeEvent()]
      const first = yield* Effect.map(makeBatch([a]), once)
      const good = yield* Effect.map(makeBatch([b]), once)
      const stray = yield* Effect.map(makeBatch([makeEvent()]), once)
      // An outbox row naming an event the batch does not hold: the store refuses the batch.
      const bad: AppendBatch = { ...stray, outbox: [{ ...stray.outbox[0]!, event_id: c.event_id }] }
      const alsoGood = yield* Effect.map(makeBatch([makeEvent()]), once)
      const run = yield* appendWhileInFlight(first, [good, bad, alsoGood])
      assert.strictEqual(run.groups.length, 1, "tried together first")
      const outcomes = run.results.map((r) => (r._tag === "Success" ? "stored" : r.failure.retryable))
      assert.deepStrictEqual(outcomes, ["stored", false, "stored"])
      const stored = yield* Effect.orDie(run.memory.readEvents(0, 10))
      assert.strictEqual(stored.length, 3)
    })
  )
})
