/**
 * The pipelined ingest loop (`Ingest.run` of a `pipelined` source): the next fetch is taken while
 * the previous one is appended; fetches of one entity are appended one at a time in fetch order,
 * fetches that share nothing two at once; each fetch is acknowledged after its own commit and in
 * fetch order; a failed append releases its fetch and the one taken or appended meanwhile; and
 * stopping releases what was taken and not acknowledged.
 */
import { describe, expect, it } from "@effect/vitest"
import { DateTime, Deferred, Effect, Exit, Fiber, Layer } from "effect"
import { type AppendBatch, EventStore, StoreError } from "../src/EventStore.ts"
import * as Ingest from "../src/Ingest.ts"
import { layerMemory } from "../src/MemoryEventStore.ts"
import { makeRouterUnsafe } from "../src/Routing.ts"
import type { FetchResult, RawFetch, Source } from "../src/Source.ts"

const router = makeRouterUnsafe([])

const message = (seq: number): RawFetch => ({
  content_type: "application/json",
  body: JSON.stringify({ seq }),
  request: { seq },
  key: `orders:${seq}`
})

/**
 * What happened, in order (`fetch 1`, `prepare 1`, `append 1`, `committed 1`, `ack 1`, `release 1`...), and a
 * way to wait for a line.
 */
class Log {
  readonly lines: Array<string> = []
  private readonly waiting = new Map<string, Deferred.Deferred<void>>()
  add(line: string): void {
    this.lines.push(line)
    const waiter = this.waiting.get(line)
    if (waiter !== undefined) Deferred.doneUnsafe(waiter, Exit.void)
  }
  /** Waits until `line` was logged. */
  until(line: string): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.lines.includes(line)) return Effect.void
      let waiter = this.waiting.get(line)
      if (waiter === undefined) {
        waiter = Deferred.makeUnsafe<void>()
        this.waiting.set(line, waiter)
      }
      return Deferred.await(waiter)
    })
  }
  matching(prefix: string): ReadonlyArray<string> {
    return this.lines.filter((line) => line.startsWith(prefix))
  }
}

/**
 * A pipelined source handing out one fetch per entry of `script` (a fetch of one message each),
 * then waiting forever; each message is an event of the entity `entity(seq)` (by default all of
 * one entity).
 */
const scripted = (log: Log, script: ReadonlyArray<number>, entity: (seq: number) => string = () => "same"): Source => {
  let next = 0
  return {
    name: "broker",
    pipelined: true,
    fetch: Effect.suspend((): Effect.Effect<FetchResult> => {
      if (next >= script.length) return Effect.never
      const seq = script[next++]!
      log.add(`fetch ${seq}`)
      return Effect.succeed({
        payloads: [message(seq)],
        failures: [],
        acknowledge: Effect.sync(() => log.add(`ack ${seq}`)),
        release: Effect.sync(() => log.add(`release ${seq}`))
      })
    }),
    transform: (raw) =>
      Effect.sync(() => {
        const seq = (JSON.parse(raw.body) as { seq: number }).seq
        log.add(`prepare ${seq}`)
        return {
          events: [
            {
              event_type: "order.placed",
              entity_type: "order",
              entity_id: entity(seq),
              occurred_at: DateTime.makeUnsafe(0),
              payload: JSON.parse(raw.body),
              natural_key: raw.body
            }
          ],
          issues: []
        }
      })
  }
}

const seqOf = (batches: ReadonlyArray<AppendBatch>) => (JSON.parse(batches[0]!.raw!.body) as { seq: number }).seq

/** The memory store, each `appendAll` logged and first run through `before(seq)` (which may fail it). */
const storeWith = (log: Log, before: (seq: number) => Effect.Effect<void, StoreError>) =>
  Layer.effect(
    EventStore,
    Effect.gen(function* () {
      const store = yield* EventStore
      return EventStore.of({
        ...store,
        appendAll: (batches) =>
          Effect.gen(function* () {
            const seq = seqOf(batches)
            log.add(`append ${seq}`)
            yield* before(seq)
            const results = yield* store.appendAll(batches)
            log.add(`committed ${seq}`)
            return results
          })
      })
    })
  ).pipe(Layer.provideMerge(layerMemory))

const storedSeqs = Effect.gen(function* () {
  const events = yield* (yield* EventStore).readEvents(0, 100)
  return events.map((e) => [(e.event.payload as { seq: number }).seq, e.revision])
})

/** A store whose first append of fetch 1 fails (the database down) once `line` was logged. */
const failingOnce = (log: Log, line: string) => {
  let failed = false
  const down = new StoreError({ operation: "append", reason: "database down", retryable: true })
  return storeWith(log, (seq) => {
    if (seq !== 1 || failed) return Effect.void
    failed = true
    return Effect.andThen(log.until(line), Effect.fail(down))
  })
}

describe("the pipelined ingest loop", () => {
  it.live(
    "takes fetch N+1 of the same entity while N is appended, and appends and acks it only after N committed",
    () => {
      const log = new Log()
      return Effect.gen(function* () {
        const firstMayCommit = yield* Deferred.make<void>()
        const layer = storeWith(log, (seq) => (seq === 1 ? Deferred.await(firstMayCommit) : Effect.void))
        yield* Effect.gen(function* () {
          const loop = yield* Effect.forkChild(Ingest.run(scripted(log, [1, 2, 3]), router, { interval: "1 millis" }))
          // Fetch 2 is taken and prepared while fetch 1's append waits: nothing of it is appended or acked yet.
          yield* log.until("prepare 2")
          expect(log.lines).toEqual(["fetch 1", "prepare 1", "append 1", "fetch 2", "prepare 2"])
          yield* Deferred.succeed(firstMayCommit, undefined)
          yield* log.until("ack 3")
          yield* Fiber.interrupt(loop)
          // Fetch 2's append starts after fetch 1 committed and was acked; fetch 3 is taken after that
          // (whether before or after fetch 2's append starts is the scheduler's business).
          expect(log.lines.filter((line) => !line.endsWith(" 3")).slice(0, 8)).toEqual([
            "fetch 1",
            "prepare 1",
            "append 1",
            "fetch 2",
            "prepare 2",
            "committed 1",
            "ack 1",
            "append 2"
          ])
          expect(log.lines.indexOf("fetch 3")).toBeGreaterThan(log.lines.indexOf("ack 1"))
          expect(log.lines.filter((line) => /^(ack|committed)/.test(line))).toEqual([
            "committed 1",
            "ack 1",
            "committed 2",
            "ack 2",
            "committed 3",
            "ack 3"
          ])
          expect(log.matching("release")).toEqual([])
          // One entity: its revisions follow the fetches' order.
          expect(yield* storedSeqs).toEqual([
            [1, 0],
            [2, 1],
            [3, 2]
          ])
        }).pipe(Effect.provide(layer))
      })
    }
  )

  it.live("a failed append releases its fetch and the one taken meanwhile, and acks neither", () => {
    const log = new Log()
    // Fails once, when fetch 2 has been taken and prepared: both are held when it does.
    const layer = failingOnce(log, "prepare 2")
    return Effect.gen(function* () {
      // The broker delivers 1 and 2 again after their release.
      const loop = yield* Effect.forkChild(Ingest.run(scripted(log, [1, 2, 1, 2]), router, { interval: "1 millis" }))
      yield* log.until("ack 2")
      yield* Fiber.interrupt(loop)
      expect(log.lines.slice(0, 7)).toEqual([
        "fetch 1",
        "prepare 1",
        "append 1",
        "fetch 2",
        "prepare 2",
        "release 1",
        "release 2"
      ])
      // Redelivered, they are stored and acked in order, once each.
      expect(log.matching("ack")).toEqual(["ack 1", "ack 2"])
      expect(log.matching("append")).toEqual(["append 1", "append 1", "append 2"])
      expect(yield* storedSeqs).toEqual([
        [1, 0],
        [2, 1]
      ])
    }).pipe(Effect.provide(layer))
  })

  it.live("stopping releases the fetch being appended and the one taken meanwhile", () => {
    const log = new Log()
    return Effect.gen(function* () {
      const loop = yield* Effect.forkChild(Ingest.run(scripted(log, [1, 2]), router, { interval: "1 millis" }))
      yield* log.until("prepare 2")
      yield* Fiber.interrupt(loop)
      expect(log.lines).toEqual(["fetch 1", "prepare 1", "append 1", "fetch 2", "prepare 2", "release 1", "release 2"])
      expect(yield* storedSeqs).toEqual([])
    }).pipe(Effect.provide(storeWith(log, () => Effect.never)))
  })

  it.live("appends a fetch sharing no entity with the one in flight beside it, and acks them in fetch order", () => {
    const log = new Log()
    return Effect.gen(function* () {
      const firstMayCommit = yield* Deferred.make<void>()
      const layer = storeWith(log, (seq) => (seq === 1 ? Deferred.await(firstMayCommit) : Effect.void))
      yield* Effect.gen(function* () {
        const src = scripted(log, [1, 2], (seq) => `order-${seq}`)
        const loop = yield* Effect.forkChild(Ingest.run(src, router, { interval: "1 millis" }))
        // Fetch 2 commits while fetch 1's append waits, but is not acked before fetch 1 is.
        yield* log.until("committed 2")
        expect(log.lines).toEqual([
          "fetch 1",
          "prepare 1",
          "append 1",
          "fetch 2",
          "prepare 2",
          "append 2",
          "committed 2"
        ])
        yield* Deferred.succeed(firstMayCommit, undefined)
        yield* log.until("ack 2")
        yield* Fiber.interrupt(loop)
        expect(log.lines.slice(7)).toEqual(["committed 1", "ack 1", "ack 2"])
      }).pipe(Effect.provide(layer))
    })
  })

  it.live("a failed append releases the fetch appended beside it, committed or not, and acks neither", () => {
    const log = new Log()
    // Fails once, after fetch 2 committed beside it.
    const layer = failingOnce(log, "committed 2")
    return Effect.gen(function* () {
      const src = scripted(log, [1, 2, 1, 2], (seq) => `order-${seq}`)
      const loop = yield* Effect.forkChild(Ingest.run(src, router, { interval: "1 millis" }))
      yield* log.until("ack 2")
      yield* Fiber.interrupt(loop)
      expect(log.lines.slice(0, 9)).toEqual([
        "fetch 1",
        "prepare 1",
        "append 1",
        "fetch 2",
        "prepare 2",
        "append 2",
        "committed 2",
        "release 1",
        "release 2"
      ])
      // Delivered again: fetch 1 stored, fetch 2 a duplicate; acked in order, once each.
      expect(log.matching("ack")).toEqual(["ack 1", "ack 2"])
      expect((yield* storedSeqs).map(([seq]) => seq).sort()).toEqual([1, 2])
    }).pipe(Effect.provide(layer))
  })
})
