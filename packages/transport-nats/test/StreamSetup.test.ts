/**
 * `ensureStream` at start: a JetStream that times out or answers 503 (a cluster electing a leader,
 * about 5 s on nats-server 2.9) is waited out, half a second between tries; a permanent refusal
 * fails the start at once. On the TestClock, against a stub JetStreamManager.
 */
import { assert, describe, it } from "@effect/vitest"
import type { JetStreamManager } from "@nats-io/jetstream"
import { Effect, Exit, Fiber, Schema } from "effect"
import { TestClock } from "effect/testing"
import { EnsureStream } from "../src/NatsTransportConfig.ts"
import { ensureRetries, ensureStream } from "../src/StreamSetup.ts"
import { parse } from "../src/SubjectTemplate.ts"

const spec = Schema.decodeUnknownSync(EnsureStream)({ name: "S", storage: "memory" })
const parsed = parse("sluice.{topic}")
const parts = "parts" in parsed ? parsed.parts : []

/** A manager whose `streams.info` fails with `failures` in turn, then finds no stream; `add` creates it. */
const stub = (failures: Array<Error>) => {
  let calls = 0
  const jsm = {
    streams: {
      info: async () => {
        calls++
        const failure = failures.shift()
        if (failure !== undefined) throw failure
        throw Object.assign(new Error("stream not found"), { name: "StreamNotFoundError" })
      },
      add: async (config: { readonly duplicate_window: number }) => ({ config }),
      update: async () => {
        throw new Error("not expected")
      }
    }
  }
  return { jsm: jsm as unknown as JetStreamManager, calls: () => calls }
}

const named = (name: string, message: string) => Object.assign(new Error(message), { name })

describe("ensureStream at start", () => {
  it.effect("waits out timeouts and 503s, then creates the stream", () =>
    Effect.gen(function* () {
      const { jsm, calls } = stub([named("TimeoutError", "timeout"), new Error("503 no responders")])
      const fiber = yield* Effect.forkChild(ensureStream(jsm, spec, parts, "@sluice/transport-nats", "nats"))
      yield* TestClock.adjust("1 second")
      const window = yield* Fiber.join(fiber)
      assert.strictEqual(calls(), 3)
      assert.isTrue(window !== undefined)
    })
  )

  it.effect("a stream that cannot be placed yet (a cluster node down) is waited for", () =>
    Effect.gen(function* () {
      let adds = 0
      const jsm = {
        streams: {
          info: async () => {
            throw Object.assign(new Error("stream not found"), { name: "StreamNotFoundError" })
          },
          add: async (config: { readonly duplicate_window: number }) => {
            adds++
            if (adds < 3) throw new Error("no suitable peers for placement")
            return { config }
          }
        }
      } as unknown as JetStreamManager
      const fiber = yield* Effect.forkChild(ensureStream(jsm, spec, parts, "@sluice/transport-nats", "nats"))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.strictEqual(adds, 3)
    })
  )

  it.effect("a permanent refusal fails at once, naming the stream", () =>
    Effect.gen(function* () {
      const { jsm, calls } = stub([new Error("insufficient resources")])
      const exit = yield* Effect.exit(ensureStream(jsm, spec, parts, "@sluice/transport-nats", "nats"))
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(calls(), 1)
      assert.include(String(Exit.isFailure(exit) ? exit.cause : ""), "ensureStream S: insufficient resources")
    })
  )

  it.effect("gives up after its retries, with the last error", () =>
    Effect.gen(function* () {
      const { jsm, calls } = stub(Array.from({ length: ensureRetries + 5 }, () => named("TimeoutError", "timeout")))
      const fiber = yield* Effect.forkChild(
        Effect.exit(ensureStream(jsm, spec, parts, "@sluice/transport-nats", "nats"))
      )
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isFailure(exit))
      assert.strictEqual(calls(), ensureRetries + 1)
    })
  )
})
