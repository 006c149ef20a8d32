/**
 * The handler faces the internet: random requests (methods, paths, content types, huge and odd
 * headers, malformed JSON, invalid UTF-8, bodies of any size, duplicated, reordered and tampered
 * signature headers) must each get a 2xx/4xx/5xx answer, never a crash, and leave the store
 * consistent: every stored event was answered 2xx, and every event has its outbox row.
 */
import { assert, describe, it } from "@effect/vitest"
import { makeSigner } from "@sluice/transport-http"
import { Effect, Redacted } from "effect"
import fc from "fast-check"
import { draft, harness, nowSeconds, secretA, secretB } from "./harness.ts"

const bodyText = fc.oneof(
  fc.constant(JSON.stringify(draft(1))),
  fc.array(fc.nat({ max: 50 }), { maxLength: 5 }).map((ns) => JSON.stringify(ns.map(draft))),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 200 }),
  fc.constant("{"),
  fc.constant('{"event_type":"a.b","entity_type":"x","entity_id":"\\u0000","payload":null}'),
  fc.constant("x".repeat(5000))
)
const bodyBytes = fc.oneof(
  bodyText.map((text) => new TextEncoder().encode(text)),
  fc.uint8Array({ maxLength: 300 }),
  fc.constant(new Uint8Array([0x7b, 0xc3, 0x28, 0x7d]))
)
const token = fc.stringMatching(/^[A-Za-z0-9-]{1,20}$/)
const headerValue = fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,40}$/), fc.constant("v".repeat(20_000)))

type Mutation =
  | "none"
  | "drop-id"
  | "drop-signature"
  | "duplicate-signature"
  | "reorder"
  | "stale"
  | "tamper-body"
  | "other-secret"
const mutation = fc.constantFrom<Mutation>(
  "none",
  "drop-id",
  "drop-signature",
  "duplicate-signature",
  "reorder",
  "stale",
  "tamper-body",
  "other-secret"
)

const anything = fc.record({
  method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE", "PATCH", "OPTIONS"),
  path: fc.constantFrom("/", "/", "/other", "/%ff", "/a/../"),
  contentType: fc.constantFrom(
    "application/json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "APPLICATION/JSON"
  ),
  body: bodyBytes,
  id: fc.oneof(token, fc.constant("same-id")),
  mutation,
  extra: fc.array(fc.tuple(token, headerValue), { maxLength: 4 })
})

// Requests a sender means well with (200), the same past the size limit (413) or with a bad body
// (400): random requests alone reach them too rarely for every run to see them.
const wellMeant = fc.record({
  method: fc.constant("POST"),
  path: fc.constant("/"),
  contentType: fc.constantFrom("application/json", "application/json; charset=utf-8"),
  body: fc
    .array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 5 })
    .map((ns) => new TextEncoder().encode(JSON.stringify(ns.map(draft)))),
  id: fc.oneof(token, fc.constant("same-id")),
  mutation: fc.constantFrom<Mutation>("none", "duplicate-signature", "reorder"),
  extra: fc.constant<Array<[string, string]>>([])
})
const oversize = wellMeant.map((s) => ({
  ...s,
  body: new TextEncoder().encode(JSON.stringify({ ...draft(1), payload: "x".repeat(5000) }))
}))
// Signed and well formed but for the body: malformed JSON, invalid UTF-8, events that do not validate (400).
const badBody = fc.tuple(wellMeant, bodyBytes).map(([s, body]) => ({ ...s, body }))
const scenario = fc.oneof(
  { arbitrary: anything, weight: 3 },
  { arbitrary: wellMeant, weight: 1 },
  { arbitrary: oversize, weight: 1 },
  { arbitrary: badBody, weight: 1 }
)

describe("PushHandler fuzz", () => {
  it.live("every request gets an answer and the store stays consistent", () =>
    Effect.gen(function* () {
      const h = yield* harness({
        auth: { type: "standard-webhooks", secrets: [secretA] },
        limits: { maxBodyBytes: 4096 }
      })
      const signerA = yield* Effect.orDie(makeSigner([Redacted.make(secretA)]))
      const signerB = yield* Effect.orDie(makeSigner([Redacted.make(secretA), Redacted.make(secretB)]))
      const accepted = new Set<string>()
      const statuses = new Map<number, number>()
      const run = (s: typeof scenario extends fc.Arbitrary<infer T> ? T : never) =>
        Effect.gen(function* () {
          const text = new TextDecoder().decode(s.body)
          const timestamp = s.mutation === "stale" ? nowSeconds() - 3600 : nowSeconds()
          const signer = s.mutation === "other-secret" ? signerB : signerA
          let signature = yield* signer.sign(s.id, timestamp, text)
          if (s.mutation === "other-secret") signature = signature.split(" ").reverse()[0]!.replace(/.$/, "A")
          if (s.mutation === "reorder") signature = `v1,${btoa("x".repeat(32))} ${signature}`
          const headers = new Headers()
          for (const [name, value] of s.extra) headers.append(`x-${name}`, value)
          if (s.contentType !== "") headers.set("content-type", s.contentType)
          if (s.mutation !== "drop-id") headers.set("webhook-id", s.id)
          headers.set("webhook-timestamp", String(timestamp))
          if (s.mutation !== "drop-signature") headers.set("webhook-signature", signature)
          if (s.mutation === "duplicate-signature") headers.append("webhook-signature", signature)
          const sent = s.mutation === "tamper-body" ? new Uint8Array([...s.body, 0x20]) : s.body
          const hasBody = s.method !== "GET"
          const request = new Request(`http://push.test${s.path}`, {
            method: s.method,
            headers,
            ...(hasBody ? { body: sent } : {})
          })
          const response = yield* Effect.promise(() => h.handler.fetch(request))
          assert.isAtLeast(response.status, 200)
          assert.isBelow(response.status, 600)
          statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1)
          const answer = (yield* Effect.promise(() => response.json())) as Record<string, unknown>
          if (response.status === 200) for (const id of answer.event_ids as Array<string>) accepted.add(id)
          else assert.isString(answer.error)
          const stored = yield* h.eventCount
          assert.strictEqual(stored, accepted.size, "every stored event was answered 2xx")
          assert.strictEqual(yield* h.outboxCount, stored, "every stored event has its outbox row")
        })
      yield* Effect.promise(() =>
        fc.assert(
          fc.asyncProperty(scenario, (s) => Effect.runPromise(run(s))),
          { numRuns: 400, interruptAfterTimeLimit: 15_000 }
        )
      )
      // The generators reach every kind of answer, stored or not.
      for (const status of [200, 400, 401, 404, 405, 413, 415]) assert.isTrue(statuses.has(status), `no ${status}`)
    })
  )
})
