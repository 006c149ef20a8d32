/**
 * Test harness: a push handler over a fresh memory store (whose append and reads can be made to
 * fail, as a lost database would), a router sending every event to one route, and signed requests.
 */
import {
  EventStore,
  layerMemory,
  makeRouterUnsafe,
  OutboxAdmin,
  RawPayloadStore,
  type StoredRaw,
  StoreError
} from "@sluice/core"
import { makeSigner } from "@sluice/transport-http"
import { type Context, Effect, Layer, Logger, Redacted } from "effect"
import { makePushHandler, type PushHandler, type PushHandlerOptions } from "../src/index.ts"
import type { FormatConfig } from "../src/PushConfig.ts"

export const secretA = `whsec_${btoa("a secret key of thirty-two bytes!")}`
export const secretB = `whsec_${btoa("another secret key, 32 bytes....")}`
export const token = "a-bearer-token-of-enough-length"

export const router = makeRouterUnsafe([{ name: "all", transport: "t", topic: "events", match: ["**"] }])

export interface Harness {
  /** The memory store's services (EventStore, RawPayloadStore...). */
  readonly context: Context.Context<EventStore | RawPayloadStore>
  readonly handler: PushHandler
  /** Makes the store fail (retryably) until set back. */
  readonly storeDown: (down: boolean) => void
  /** Makes the store's append die (a defect, as a bug would) until set back. */
  readonly storeDies: (dies: boolean) => void
  readonly raws: Effect.Effect<ReadonlyArray<StoredRaw>>
  readonly eventCount: Effect.Effect<number>
  readonly outboxCount: Effect.Effect<number>
}

/** A handler of source `inbox` over a fresh memory store. */
export const harness = (config: PushHandlerOptions["config"], transform?: PushHandlerOptions["transform"]) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(layerMemory)
    const memory = context.mapUnsafe.get(EventStore.key) as EventStore["Service"]
    let down = false
    let dies = false
    const fail = (operation: string) => new StoreError({ operation, reason: "connection refused", retryable: true })
    const flaky = EventStore.of({
      ...memory,
      append: (batch) =>
        dies ? Effect.die(new Error("bug")) : down ? Effect.fail(fail("append")) : memory.append(batch),
      appendAll: (batches) =>
        dies ? Effect.die(new Error("bug")) : down ? Effect.fail(fail("appendAll")) : memory.appendAll(batches),
      getRaw: (id) => (down ? Effect.fail(fail("getRaw")) : memory.getRaw(id))
    })
    const handler = yield* makePushHandler({
      name: "inbox",
      router,
      config,
      ...(transform === undefined ? {} : { transform })
    }).pipe(
      Effect.provideService(EventStore, flaky),
      // The refusals' warnings are expected here: keep the test output for failures.
      Effect.provide(Logger.layer([]))
    )
    const raws = Effect.orDie(
      (context.mapUnsafe.get(RawPayloadStore.key) as RawPayloadStore["Service"]).readRaw({ limit: 100_000 })
    )
    const eventCount = Effect.map(Effect.orDie(memory.readEvents(0, 1_000_000)), (events) => events.length)
    const outboxCount = Effect.map(
      Effect.orDie((context.mapUnsafe.get(OutboxAdmin.key) as OutboxAdmin["Service"]).stats),
      (stats) => stats.pending
    )
    return {
      context,
      handler,
      storeDown: (value: boolean) => {
        down = value
      },
      storeDies: (value: boolean) => {
        dies = value
      },
      raws,
      eventCount,
      outboxCount
    } satisfies Harness
  })

export const nowSeconds = () => Math.floor(Date.now() / 1000)

/** A POST of `body` signed with `secrets` (Standard Webhooks). */
export const signed = (
  body: string,
  { id = "msg_1", secrets = [secretA], timestamp = nowSeconds(), url = "http://push.test/" } = {}
): Effect.Effect<Request> =>
  Effect.gen(function* () {
    const signer = yield* Effect.orDie(makeSigner(secrets.map((s) => Redacted.make(s))))
    const signature = yield* signer.sign(id, timestamp, body)
    return new Request(url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature
      }
    })
  })

/**
 * A handler config without auth whose `mapped` format reads the event type at /type, calls every
 * item a "device" and reads the rest from `fields` (entity_id, occurred_at, natural_key).
 */
export const mappedDevices = (
  fields: Pick<Extract<FormatConfig, { type: "mapped" }>, "entity_id" | "occurred_at" | "natural_key">
): PushHandlerOptions["config"] => ({
  auth: { type: "none" },
  format: { type: "mapped", event_type: { pointer: "/type" }, entity_type: "device", ...fields }
})

export const draft = (n: number) => ({
  event_type: "order.created",
  entity_type: "order",
  entity_id: `o-${n}`,
  payload: { n }
})

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: Record<string, unknown>
}

export const call = (handler: PushHandler, request: Request): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const response = await handler.fetch(request)
    return {
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as Record<string, unknown>
    }
  })
