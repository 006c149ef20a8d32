/**
 * Redeliveries racing across processes: two push handlers (as two runners would have) over one
 * PostgreSQL schema, each with its own connection pool, receive the same webhooks at the same time.
 * Nothing in either process coordinates them: the append's `once` gate (the raw payload's unique id)
 * must make the store keep one raw payload and one event per webhook, and every answer name the same ids.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, makeRouterUnsafe, RawPayloadStore } from "@sluice/core"
import { makeDecodedPushHandler, type PushHandler } from "@sluice/source-http"
import { PgEventStore } from "@sluice/store-postgres"
import { Effect, Layer, Logger, Redacted } from "effect"
import { databaseUrl, dropSchema, freshSchema } from "./support/database.ts"
import { orderBody, signedHeaders } from "./support/pushWebhooks.ts"

const secret = `whsec_${Buffer.from("sluice-race-key-0123456789abcdef").toString("base64")}`
const router = makeRouterUnsafe([{ name: "all", transport: "t", topic: "in", match: ["**"] }])

const request = (n: number): Request => {
  const body = orderBody(n)
  return new Request("http://push.test/", { method: "POST", body, headers: signedHeaders(secret, `race_${n}`, body) })
}

const handlerOn = (schema: string) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(PgEventStore.layer({ url: databaseUrl, schema, poolSize: 4 }))
    const handler = yield* makeDecodedPushHandler({
      name: "inbox",
      router,
      config: {
        path: "/",
        auth: { type: "standard-webhooks", secrets: [Redacted.make(secret)], tolerance: "5 minutes" },
        format: { type: "events" },
        limits: { maxBodyBytes: 65_536, maxEvents: 10, contentTypes: ["application/json"], timeout: "10 seconds" },
        keepHeaders: ["webhook-id"],
        retryAfterSeconds: 1
      }
    }).pipe(Effect.provideContext(context), Effect.provide(Logger.layer([])), Effect.orDie)
    return { handler, context }
  })

const post = (handler: PushHandler, n: number) =>
  Effect.promise(async () => {
    const response = await handler.fetch(request(n))
    return { status: response.status, body: (await response.json()) as { event_ids: Array<string> } }
  })

describe("push redeliveries across processes", () => {
  it.live(
    "store each webhook once and answer every copy with the same ids",
    () =>
      Effect.gen(function* () {
        const schema = freshSchema()
        yield* Effect.addFinalizer(() => Effect.promise(() => dropSchema(schema)))
        const a = yield* handlerOn(schema)
        const b = yield* handlerOn(schema)
        const webhooks = Array.from({ length: 40 }, (_, n) => n)
        // Each webhook three times through each handler, all at once.
        const answers = yield* Effect.forEach(
          webhooks.flatMap((n) => [a, b, a, b, a, b].map((side) => ({ side, n }))),
          ({ side, n }) => Effect.map(post(side.handler, n), (answer) => ({ n, ...answer })),
          { concurrency: 24 }
        )
        assert.deepStrictEqual(
          answers.filter((x) => x.status !== 200),
          []
        )
        for (const n of webhooks) {
          const ids = new Set(answers.filter((x) => x.n === n).map((x) => JSON.stringify(x.body.event_ids)))
          assert.strictEqual(ids.size, 1, `webhook ${n}: one answer`)
        }
        const store = a.context.mapUnsafe.get(EventStore.key) as EventStore["Service"]
        const raws = a.context.mapUnsafe.get(RawPayloadStore.key) as RawPayloadStore["Service"]
        assert.strictEqual((yield* Effect.orDie(store.readEvents(0, 10_000))).length, webhooks.length)
        assert.strictEqual((yield* Effect.orDie(raws.readRaw({ limit: 10_000 }))).length, webhooks.length)
      }),
    120_000
  )
})
