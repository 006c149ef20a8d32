import { PassThrough, Writable } from "node:stream"
import { assert, describe, it } from "@effect/vitest"
import { encodeEvent, noDeadline, type PublishOutcome, Transports } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { DateTime, Effect, Exit, Layer, Scope } from "effect"
import { TestClock } from "effect/testing"
import { jsonLine, prettyLine } from "../src/ConsoleFormat.ts"
import { ConsoleSink, fromWritable } from "../src/ConsoleSink.ts"
import { ConsoleTransportPlugin, make } from "../src/ConsoleTransport.ts"
import { makeCaptureSink } from "./captureSink.ts"

const fixedEvent = () =>
  makeEvent({
    event_type: "quote.updated",
    entity_type: "quote",
    entity_id: "AAPL",
    occurred_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, 4, 5, 678)),
    payload: { price: 123.45, currency: "USD" }
  })

const errorOf = (outcome: PublishOutcome | undefined) =>
  outcome === undefined || outcome._tag === "Delivered" ? "" : outcome.error

describe("ConsoleTransport: formats", () => {
  it.effect("json lines carry route, topic, attempt and the event's wire JSON, one per envelope, in order", () =>
    Effect.gen(function* () {
      const capture = makeCaptureSink(false)
      const transport = yield* make({ format: "auto" }).pipe(Effect.provideService(ConsoleSink, capture.sink))
      const envelopes = [fixedEvent(), fixedEvent()].map((e, i) => TransportContract.envelope(e, "r", `t${i}`, i + 1))
      const outcomes = yield* transport.publish(envelopes, noDeadline)
      assert.deepStrictEqual(
        outcomes.map((o) => o._tag),
        ["Delivered", "Delivered"]
      )
      assert.deepStrictEqual(
        capture.lines().map((line) => JSON.parse(line)),
        envelopes.map((e) => ({ route: e.route, topic: e.topic, attempt: e.attempt, event: encodeEvent(e.event) }))
      )
    })
  )

  it.effect("pretty lines are readable: time, type, entity, route/topic, attempt, id and payload", () =>
    Effect.gen(function* () {
      const capture = makeCaptureSink(true)
      const transport = yield* make({ format: "auto" }).pipe(Effect.provideService(ConsoleSink, capture.sink))
      const event = fixedEvent()
      yield* transport.publish([TransportContract.envelope(event, "quotes", "prices", 2)], noDeadline)
      assert.deepStrictEqual(capture.lines(), [
        `2026-01-02T03:04:05.678Z quote.updated quote/AAPL -> quotes/prices #2 ${event.event_id} {"price":123.45,"currency":"USD"}`
      ])
      const long = makeEvent({ payload: { text: "z".repeat(1_000) } })
      assert.isTrue(prettyLine(TransportContract.envelope(long)).endsWith("…\n"), "a long payload is cut")
      const hostile = makeEvent({ entity_id: "AAPL\n\u001b[2Jfake line" })
      const line = prettyLine(TransportContract.envelope(hostile))
      assert.strictEqual(line.split("\n").length, 2, "control characters cannot break the line")
      assert.include(line, "AAPL\\u000a\\u001b[2Jfake line")
    })
  )

  it("auto is json off a terminal and pretty on one; explicit formats win", () => {
    const envelope = TransportContract.envelope(fixedEvent())
    assert.isTrue(jsonLine(envelope).startsWith('{"route":'))
    assert.isTrue(jsonLine(envelope).endsWith("}\n"))
    assert.strictEqual(jsonLine(envelope).split("\n").length, 2, "exactly one line")
  })

  it.effect("the explicit format overrides the terminal check", () =>
    Effect.gen(function* () {
      const tty = makeCaptureSink(true)
      const pipe = makeCaptureSink(false)
      const envelope = TransportContract.envelope(fixedEvent())
      yield* Effect.flatMap(make({ format: "json" }), (t) => t.publish([envelope], noDeadline)).pipe(
        Effect.provideService(ConsoleSink, tty.sink)
      )
      yield* Effect.flatMap(make({ format: "pretty" }), (t) => t.publish([envelope], noDeadline)).pipe(
        Effect.provideService(ConsoleSink, pipe.sink)
      )
      assert.strictEqual(`${tty.lines()[0]}\n`, jsonLine(envelope))
      assert.strictEqual(`${pipe.lines()[0]}\n`, prettyLine(envelope))
    })
  )
})

describe("ConsoleTransport: a closed stdout", () => {
  it.effect("a destroyed stream gives Retryable outcomes with the reason, not a crash", () =>
    Effect.gen(function* () {
      const stream = new PassThrough()
      const received: Array<string> = []
      stream.on("data", (chunk: Buffer) => received.push(chunk.toString("utf8")))
      const sink = yield* fromWritable(stream)
      const transport = yield* make({ format: "json" }).pipe(Effect.provideService(ConsoleSink, sink))
      const first = yield* transport.publish([TransportContract.envelope(makeEvent())], noDeadline)
      assert.strictEqual(first[0]!._tag, "Delivered")
      stream.destroy()
      const after = yield* transport.publish(
        [TransportContract.envelope(makeEvent()), TransportContract.envelope(makeEvent())],
        noDeadline
      )
      assert.deepStrictEqual(
        after.map((o) => o._tag),
        ["Retryable", "Retryable"]
      )
      assert.strictEqual(errorOf(after[0]), "stdout is closed: the line was not written")
      assert.strictEqual(received.join("").split("\n").length, 2, "only the first line was written")
    })
  )

  it.effect(
    "EPIPE on write is Retryable, later writes fail fast, and the error event is handled while the scope lives",
    () =>
      Effect.gen(function* () {
        let attempts = 0
        const stream = new Writable({
          write(_chunk, _encoding, callback) {
            attempts++
            callback(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }))
          }
        })
        const scope = yield* Scope.make()
        const sink = yield* fromWritable(stream).pipe(Scope.provide(scope))
        assert.strictEqual(stream.listenerCount("error"), 1)
        const transport = yield* make({ format: "json" }).pipe(Effect.provideService(ConsoleSink, sink))
        const outcomes = yield* transport.publish(
          [TransportContract.envelope(makeEvent()), TransportContract.envelope(makeEvent())],
          noDeadline
        )
        assert.deepStrictEqual(
          outcomes.map((o) => o._tag),
          ["Retryable", "Retryable"]
        )
        assert.strictEqual(errorOf(outcomes[0]), "stdout is closed (EPIPE): the line was not written")
        assert.strictEqual(errorOf(outcomes[1]), "stdout is closed (EPIPE): the line was not written")
        assert.strictEqual(attempts, 1, "a closed stream is not written again")
        yield* Scope.close(scope, Exit.void)
        assert.strictEqual(stream.listenerCount("error"), 1, "after a failure the listener stays for late error events")
        // Node destroys the stream on a later tick: polled (real time) with a generous deadline.
        for (let i = 0; i < 1_000 && !stream.destroyed; i++) yield* Effect.sleep("10 millis").pipe(TestClock.withLive)
        assert.isTrue(stream.destroyed)
      })
  )

  it.effect("a healthy stream's error listener is removed with the scope", () =>
    Effect.gen(function* () {
      const stream = new PassThrough()
      stream.resume()
      const scope = yield* Scope.make()
      const sink = yield* fromWritable(stream).pipe(Scope.provide(scope))
      yield* sink.write("line\n")
      assert.strictEqual(stream.listenerCount("error"), 1)
      yield* Scope.close(scope, Exit.void)
      assert.strictEqual(stream.listenerCount("error"), 0)
    })
  )
})

describe("ConsoleTransport: plugin", () => {
  const build = (config: unknown) =>
    Effect.gen(function* () {
      return yield* (yield* Transports).get("out")
    }).pipe(Effect.provide(ConsoleTransportPlugin.layer(config, "out").pipe(Layer.provideMerge(Transports.layer))))

  it.effect("registers its instance and writes to the ConsoleSink in the context", () =>
    Effect.gen(function* () {
      const capture = makeCaptureSink(false)
      const transport = yield* build({}).pipe(Effect.provideService(ConsoleSink, capture.sink))
      assert.strictEqual(transport.name, "out")
      yield* transport.publish([TransportContract.envelope(makeEvent())], noDeadline)
      assert.strictEqual(capture.lines().length, 1)
      assert.isTrue(capture.lines()[0]!.startsWith('{"route":"default"'), "auto is json off a terminal")
    })
  )

  it.effect("refuses an unknown format, naming the field", () =>
    Effect.gen(function* () {
      const error = yield* build({ format: "xml" }).pipe(Effect.flip)
      assert.strictEqual(error._tag, "PluginConfigError")
      assert.include(error.message, '["format"]')
    })
  )
})
