/**
 * The push handler end to end over a real HTTP server of the runtime under test: 1,000 signed
 * webhooks (16 at a time), redeliveries, first deliveries of one id racing each other, bad
 * signatures and an oversize body, against the store on
 * PGlite and on PostgreSQL. Each runtime's test file passes its own `serve` (Deno.serve, node:http);
 * the body here is the same for every runtime.
 */
import { Effect, Logger } from "effect"
import { assert, describe, it } from "vitest"
import { EventStore, RawPayloadStore } from "../../packages/core/src/index.ts"
import { makePushHandler } from "../../packages/source-http/src/index.ts"
import {
  draft,
  router,
  secretA as secret,
  signed,
  secretB as wrongSecret
} from "../../packages/source-http/test/harness.ts"
import { freshPgLayer, freshPgliteLayer, sharedPglite } from "../../packages/store-postgres/test/utils.ts"

/** A server listening on a free port of 127.0.0.1, answering with `fetch`. */
export interface Served {
  readonly url: string
  readonly close: () => Promise<void>
}
export type Serve = (fetch: (request: Request) => Promise<Response>) => Promise<Served>

const deliveries = 1_000
const concurrency = 16
const maxBodyBytes = 4_096

const racedDraft = 30_000
const racedBody = JSON.stringify([draft(racedDraft)])

interface Answer {
  readonly status: number
  readonly body: Record<string, unknown>
}

/** POSTs `body` signed with `key` as delivery `id`; the answer's status and JSON body. */
const post = (url: string, id: string, body: string, key = secret): Effect.Effect<Answer> =>
  Effect.gen(function* () {
    const request = yield* signed(body, { id, secrets: [key], url })
    return yield* Effect.promise(async () => {
      const response = await fetch(request)
      return { status: response.status, body: (await response.json()) as Record<string, unknown> }
    })
  })

const scenario = (serve: Serve) =>
  Effect.gen(function* () {
    const handler = yield* makePushHandler({
      name: "inbox",
      router,
      config: { auth: { type: "standard-webhooks", secrets: [secret] }, limits: { maxBodyBytes } }
    }).pipe(Effect.provide(Logger.layer([])))
    const served = yield* Effect.acquireRelease(
      Effect.promise(() => serve(handler.fetch)),
      (s) => Effect.promise(() => s.close())
    )
    const ids = Array.from({ length: deliveries }, (_, n) => n)

    const first = yield* Effect.forEach(ids, (n) => post(served.url, `msg_${n}`, JSON.stringify([draft(n)])), {
      concurrency
    })
    for (const answer of first) {
      assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
      assert.deepStrictEqual(answer.body.duplicates, [])
    }

    // Every 10th delivery again: the original ids, nothing stored.
    const again = ids.filter((n) => n % 10 === 0)
    const redelivered = yield* Effect.forEach(again, (n) => post(served.url, `msg_${n}`, JSON.stringify([draft(n)])), {
      concurrency
    })
    redelivered.forEach((answer, i) => {
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(answer.body.redelivery, true)
      assert.deepStrictEqual(answer.body.event_ids, first[again[i]!]!.body.event_ids)
    })

    // First deliveries of one id racing each other: one stores it, the others answer its ids.
    const raced = yield* Effect.forEach([1, 2, 3, 4, 5, 6, 7, 8], () => post(served.url, "race", racedBody), {
      concurrency: "unbounded"
    })
    for (const answer of raced) assert.strictEqual(answer.status, 200, JSON.stringify(answer.body))
    assert.strictEqual(raced.filter((answer) => answer.body.redelivery === false).length, 1)
    assert.strictEqual(new Set(raced.map((answer) => JSON.stringify(answer.body.event_ids))).size, 1)

    // Bad signatures: refused, nothing stored.
    const forged = yield* Effect.forEach(
      [0, 1, 2, 3],
      (n) => post(served.url, `forged_${n}`, JSON.stringify([draft(10_000 + n)]), wrongSecret),
      { concurrency }
    )
    for (const answer of forged) assert.strictEqual(answer.status, 401)

    const oversize = yield* post(
      served.url,
      "big",
      JSON.stringify([{ ...draft(20_000), payload: "x".repeat(maxBodyBytes) }])
    )
    assert.strictEqual(oversize.status, 413)

    // Exactly one raw payload and one event per first delivery (the raced one included).
    const raws = yield* Effect.orDie((yield* RawPayloadStore).readRaw({ limit: 100_000 }))
    assert.strictEqual(raws.length, deliveries + 1)
    assert.strictEqual(new Set(raws.map((r) => r.raw.raw_id)).size, deliveries + 1)
    const events = yield* Effect.orDie((yield* EventStore).readEvents(0, 100_000))
    assert.strictEqual(events.length, deliveries + 1)
    assert.deepStrictEqual(
      new Set(events.map((e) => e.event.entity_id)),
      new Set([...ids.map((n) => `o-${n}`), `o-${racedDraft}`])
    )
  }).pipe(Effect.scoped)

/** Registers the end-to-end test on PGlite and on PostgreSQL, served by `serve`. */
export const pushEndToEnd = (runtime: string, serve: Serve): void => {
  describe(`push handler end to end on ${runtime}`, () => {
    const pglite = sharedPglite()
    it(
      "PGlite: 1,000 signed webhooks stored once each; redeliveries, bad signatures and oversize bodies",
      () => Effect.runPromise(scenario(serve).pipe(Effect.provide(freshPgliteLayer(pglite)))),
      240_000
    )
    it(
      "PostgreSQL: 1,000 signed webhooks stored once each; redeliveries, bad signatures and oversize bodies",
      () => Effect.runPromise(scenario(serve).pipe(Effect.provide(freshPgLayer()))),
      240_000
    )
  })
}
