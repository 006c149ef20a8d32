/**
 * Contract cases for text a database cannot store (U+0000, lone surrogates; see StorableText.ts):
 * what ingest makes of it and what `append` does when handed it directly (`cases`, part of
 * EventStoreContract's), and how a failure reason holding it is recorded (`outboxCases`, part of
 * OutboxQueueContract's), so memory, PGlite and PostgreSQL all run them.
 */
import { DateTime, Effect, Option } from "effect"
import { Hex } from "effect/encoding"
import { EventStore } from "../EventStore.ts"
import * as Ingest from "../Ingest.ts"
import { sha256, utf8 } from "../internal/hash.ts"
import { OutboxAdmin } from "../OutboxAdmin.ts"
import * as Relay from "../Relay.ts"
import { makeRouterUnsafe } from "../Routing.ts"
import type { EventDraft, Source } from "../Source.ts"
import { permanent, retryable, type Transport } from "../Transport.ts"
import { Transports } from "../Transports.ts"
import type { ContractCase } from "./ContractHarness.ts"
import * as check from "./check.ts"
import { makeBatch, makeEvent } from "./fixtures.ts"

const router = makeRouterUnsafe([{ name: "all", transport: "memory", topic: "all", match: ["**"], ordered: true }])

const draft = (entity_id: string, payload: unknown): EventDraft => ({
  event_type: "text.checked",
  entity_type: "probe",
  entity_id,
  occurred_at: DateTime.makeUnsafe(Date.UTC(2026, 0, 2, 3, 4, 5)),
  payload
})

// What a source may well hand over: JSON.parse("\"\\u0000\"") is a string holding U+0000.
const body = '{"name":"a\u0000b"}'
const bodyUtf8Base64 = "eyJuYW1lIjoiYQBiIn0="

const source: Source = {
  name: "text-source",
  fetch: Effect.succeed({
    payloads: [{ content_type: "application/json", body, request: { "q\u0000": ["\ud800"] } }],
    failures: []
  }),
  transform: () =>
    Effect.succeed({
      events: [
        draft("plain", { name: "ok" }),
        draft("emoji", { name: "a\ud83d\ude00b" }),
        draft("nul-value", { nested: { name: "a\u0000b" } }),
        draft("nul-key", { "k\u0000": 1 }),
        draft("nul\u0000id", { name: "ok" }),
        draft("lone-value", { list: ["x", "\ud800"] }),
        draft("lone\udc00id", { name: "ok" })
      ],
      issues: []
    })
}

const noUnstorableText = (text: string) =>
  !text.includes("\u0000") && !/[\ud800-\udfff]/.test(text.replace(/\ud83d\ude00/g, ""))

export const cases: ReadonlyArray<ContractCase> = [
  {
    name: "ingest refuses events with text the database cannot store, naming the field; the rest is stored, the raw payload kept",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const report = yield* Ingest.tick(source, router)
        const [payload] = report.payloads
        yield* check.equal(payload?.appended, 2, "the plain and the emoji event are stored")
        const stored = yield* store.readEvents(0, 10)
        yield* check.equal(
          stored.map((s) => [s.event.entity_id, s.event.payload]),
          [
            ["plain", { name: "ok" }],
            ["emoji", { name: "a\ud83d\ude00b" }]
          ],
          "events round-trip unchanged (a surrogate pair is fine)"
        )
        const issues = payload?.issues ?? []
        for (const expected of [
          '["payload"]["nested"]["name"]',
          '["payload"]["k\\u0000"]',
          '["entity_id"]',
          '["payload"]["list"][1]'
        ]) {
          yield* check.that(
            issues.some((issue) => issue.includes(expected)),
            `an issue names ${expected}: ${JSON.stringify(issues)}`
          )
        }
        yield* check.equal(issues.length, 5, "one issue per refused draft")
        const raw = Option.getOrUndefined(yield* store.getRaw(payload!.rawId as never))
        yield* check.that(raw !== undefined, "the raw payload is kept")
        yield* check.equal(
          [raw!.body, raw!.content_type, raw!.content_hash],
          [bodyUtf8Base64, "application/json;base64", Hex.encode(sha256(utf8(body)))],
          "the body is kept as base64 of the UTF-8 bytes its content_hash covers"
        )
        yield* check.equal(raw!.request, { "q\\u0000": ["\\ud800"] }, "the request is kept with escapes")
        const error = raw!.transform_error ?? ""
        yield* check.that(noUnstorableText(error), `transform_error is storable: ${JSON.stringify(error)}`)
        for (const expected of ['["payload"]["nested"]["name"]', "body contains U+0000", 'request["q\\u0000"] key']) {
          yield* check.that(error.includes(expected), `transform_error says ${expected}: ${JSON.stringify(error)}`)
        }
      })
  },
  {
    name: "append refuses a batch holding text the database cannot store, naming the field, and stores none of it",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const variants = [
          { event: makeEvent({ payload: { name: "a\u0000b" } }), field: 'payload["name"] contains U+0000' },
          { event: makeEvent({ payload: { "k\u0000": 1 } }), field: 'payload["k\\u0000"] key contains U+0000' },
          { event: makeEvent({ entity_id: "a\u0000b" }), field: "entity_id contains U+0000" },
          // PostgreSQL would store this one as U+FFFD without a word: the event would change.
          { event: makeEvent({ entity_id: "a\ud800b" }), field: "entity_id contains a lone surrogate U+D800" },
          { event: makeEvent({ payload: ["\udfff"] }), field: "payload[0] contains a lone surrogate U+DFFF" }
        ]
        for (const { event, field } of variants) {
          const batch = yield* makeBatch([makeEvent(), event])
          const error = yield* Effect.flip(store.append(batch))
          yield* check.equal([error._tag, error.retryable], ["StoreError", false], `${field}: not retryable`)
          yield* check.that(error.reason.includes(field), `the reason names ${field}: ${error.reason}`)
          yield* check.that(noUnstorableText(error.reason), "the reason itself is printable")
          yield* check.that(Option.isNone(yield* store.getRaw(batch.raw!.raw_id)), "no raw payload")
        }
        const raw = yield* makeBatch([makeEvent()])
        const badRaw = { ...raw, raw: { ...raw.raw!, body: "a\u0000b" } }
        const error = yield* Effect.flip(store.append(badRaw))
        yield* check.that(error.reason.includes("body contains U+0000"), `a raw body is named: ${error.reason}`)
        yield* check.equal((yield* store.readEvents(0, 10)).length, 0, "no event stored")
        yield* check.equal((yield* admin.stats).pending, 0, "no outbox row")
        const ok = yield* store.append(yield* makeBatch([makeEvent({ payload: { smile: "\ud83d\ude00" } })]))
        yield* check.equal(ok.appended.length, 1, "a surrogate pair is stored")
      })
  }
]

/** The case on what the outbox records: part of `OutboxQueueContract.cases`. */
export const outboxCases: ReadonlyArray<ContractCase> = [
  {
    name: "a failure reason holding U+0000 (from a receiver's answer) is recorded with escapes, not lost",
    run: () =>
      Effect.gen(function* () {
        const store = yield* EventStore
        const admin = yield* OutboxAdmin
        const [busy, refused] = [makeEvent(), makeEvent()]
        yield* store.append(yield* makeBatch([busy, refused], ["r"]))
        const receiver: Transport = {
          name: "t",
          publish: (envelopes) =>
            Effect.succeed(
              envelopes.map((e) =>
                e.event.event_id === busy.event_id
                  ? retryable("HTTP 503: a\u0000b")
                  : permanent("HTTP 400: \u0000\ud800")
              )
            )
        }
        const report = yield* Relay.runOnce({
          routes: [{ name: "r", transport: "t", topic: "t", match: ["**"] }]
        }).pipe(Effect.provideService(Transports, Transports.makeOf([receiver])))
        yield* check.equal([report.retried, report.dead], [1, 1], "both results are recorded")
        const rows = yield* admin.listOutbox({})
        yield* check.equal(
          rows.map((r) => [r.event_id === busy.event_id ? "busy" : "refused", r.attempts, r.last_error]),
          [
            ["busy", 1, "HTTP 503: a\\u0000b"],
            ["refused", 1, "permanent: HTTP 400: \\u0000\\ud800"]
          ],
          "the reasons, escaped"
        )
      })
  }
]
