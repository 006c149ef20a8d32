/**
 * The dashboard's side of the admin server, in process over a memory store: the page and its
 * security headers, the endpoints only it reads (backlog, rates, sources, an event, a raw
 * payload) behind the token and the Origin rule, and the rate and source trackers behind them.
 */
import { createHash } from "node:crypto"
import { assert, describe, it } from "@effect/vitest"
import { EventStore, MemoryEventStore, Metrics, OutboxAdmin, SourceError } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer, Metric, Redacted } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import { TestClock } from "effect/testing"
import * as Admin from "../src/Admin.ts"
import { hostRule } from "../src/AdminGuards.ts"
import * as RateHistory from "../src/RateHistory.ts"
import * as SourceHealth from "../src/SourceHealth.ts"
import { StoreHealth } from "../src/StoreLayer.ts"

const token = "dashboard-token-0123456789"
const auth = { authorization: `Bearer ${token}` }
const fresh = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2)}`

/** An admin web handler over a memory store holding one event (and its raw payload) on `route`. */
const setup = (options: { readonly token?: string; readonly sources?: SourceHealth.SourceHealth } = {}) =>
  Effect.gen(function* () {
    const route = fresh("hooks")
    const stores = yield* MemoryEventStore.makeStores
    const event = makeEvent({ event_type: "quote.updated" })
    const batch = yield* makeBatch([event], [route])
    yield* stores.eventStore.append(batch)
    if (batch.raw === null) throw new Error("makeBatch made no raw payload")
    const services = Layer.mergeAll(
      Layer.succeed(EventStore, stores.eventStore),
      Layer.succeed(OutboxAdmin, stores.outboxAdmin),
      Layer.succeed(StoreHealth, StoreHealth.of({ check: Effect.succeed({ database: true, migrations: true }) })),
      HttpServer.layerServices
    )
    const { handler, dispose } = HttpRouter.toWebHandler(
      Admin.routes({
        token: options.token === undefined ? undefined : Redacted.make(options.token),
        hosts: hostRule("127.0.0.1", 9464),
        routes: [{ name: route }, { name: "quiet" }],
        sources: options.sources
      }).pipe(Layer.provide(services)),
      { disableLogger: true }
    )
    yield* Effect.addFinalizer(() => Effect.promise(() => dispose()))
    const call = (path: string, headers: Record<string, string> = {}) =>
      Effect.promise(async () => {
        const response = await handler(
          new Request(`http://127.0.0.1:9464${path}`, { headers: { host: "127.0.0.1:9464", ...headers } })
        )
        return { status: response.status, headers: response.headers, text: await response.text() }
      })
    return { call, route, event, raw: batch.raw }
  })

describe("the dashboard page", () => {
  it.live("is served without the token, holds no data, and forbids framing and foreign scripts", () =>
    Effect.gen(function* () {
      const { call, route } = yield* setup({ token })
      const page = yield* call("/")
      assert.strictEqual(page.status, 200)
      assert.strictEqual(page.headers.get("content-type"), "text/html; charset=utf-8")
      assert.strictEqual(page.headers.get("x-frame-options"), "DENY")
      assert.strictEqual(page.headers.get("x-content-type-options"), "nosniff")
      assert.strictEqual(page.headers.get("cache-control"), "no-store")
      const csp = page.headers.get("content-security-policy") ?? ""
      for (const directive of [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "form-action 'none'"
      ])
        assert.include(csp, directive)
      // The inline style is allowed by its hash, and nothing else inline is.
      const style = /<style>([\s\S]*?)<\/style>/.exec(page.text)![1]!
      assert.include(csp, `style-src 'sha256-${createHash("sha256").update(style).digest("base64")}'`)
      assert.notInclude(csp, "unsafe-inline")
      assert.notMatch(page.text, /<script>|<script [^>]*>[^<]/)
      assert.notMatch(page.text, /https?:\/\//)
      // Nothing the API guards: no route, no token.
      assert.notInclude(page.text, route)
      assert.notInclude(page.text, token)
      // The script and the modules it imports, each from this origin.
      const imported = new Set<string>()
      for (const path of ["/dashboard.js", "/api.js", "/dom.js", "/sparkline.js"]) {
        const script = yield* call(path)
        assert.strictEqual(script.status, 200, path)
        assert.strictEqual(script.headers.get("content-type"), "text/javascript; charset=utf-8", path)
        assert.strictEqual(script.headers.get("x-content-type-options"), "nosniff", path)
        assert.notMatch(script.text, /https?:\/\/(?!www\.w3\.org\/2000\/svg)/, path)
        for (const m of script.text.matchAll(/from "\.\/([a-z]+\.js)"/g)) imported.add(`/${m[1]}`)
      }
      assert.deepStrictEqual([...imported].sort(), ["/api.js", "/dom.js", "/sparkline.js"])
      assert.strictEqual((yield* call("/other.js")).status, 404)
    })
  )

  it.live("its endpoints need the token, and refuse a foreign Origin", () =>
    Effect.gen(function* () {
      const { call, event, raw } = yield* setup({ token })
      const paths = [
        "/api/backlog",
        "/api/rates",
        "/api/sources",
        `/api/events/${event.event_id}`,
        `/api/raw/${raw.raw_id}`
      ]
      for (const path of paths) {
        assert.strictEqual((yield* call(path)).status, 401, path)
        assert.strictEqual((yield* call(path, { authorization: "Bearer wrong" })).status, 401, path)
        assert.strictEqual((yield* call(path, auth)).status, 200, path)
        assert.strictEqual((yield* call(path, { ...auth, origin: "http://127.0.0.1:9464" })).status, 200, path)
        assert.strictEqual((yield* call(path, { ...auth, origin: "https://evil.example" })).status, 403, path)
      }
      // The page itself is refused to a foreign origin and a foreign Host too.
      assert.strictEqual((yield* call("/", { origin: "https://evil.example" })).status, 403)
      assert.strictEqual((yield* call("/", { host: "evil.example:9464" })).status, 421)
    })
  )
})

describe("the dashboard's endpoints", () => {
  it.live("answer an event and its raw payload as stored; a bad id is 400, an unknown one 404", () =>
    Effect.gen(function* () {
      const { call, event, raw } = yield* setup()
      const shown = JSON.parse((yield* call(`/api/events/${event.event_id}`)).text)
      assert.strictEqual(shown.raw_id, raw.raw_id)
      assert.strictEqual(shown.event.event_id, event.event_id)
      assert.strictEqual(shown.event.event_type, "quote.updated")
      assert.strictEqual(shown.event.occurred_at, "2026-01-02T03:04:05.000Z")
      const payload = JSON.parse((yield* call(`/api/raw/${raw.raw_id}`)).text)
      assert.deepInclude(payload, { raw_id: raw.raw_id, body: raw.body, content_type: "application/json" })
      assert.strictEqual(payload.received_at, "2026-01-02T03:04:06.000Z")
      assert.strictEqual((yield* call("/api/events/not-a-uuid")).status, 400)
      assert.strictEqual((yield* call("/api/raw/1;drop")).status, 400)
      assert.strictEqual((yield* call("/api/events/00000000-0000-4000-8000-000000000000")).status, 404)
      assert.strictEqual((yield* call("/api/raw/00000000-0000-4000-8000-000000000000")).status, 404)
      assert.strictEqual((yield* call("/api/backlog?x=1")).status, 400)
    })
  )

  it.live("answer the backlog per route, the config's routes at 0", () =>
    Effect.gen(function* () {
      const { call, route } = yield* setup()
      const backlog = JSON.parse((yield* call("/api/backlog")).text)
      assert.deepInclude(backlog, { pending: 1, dead: 0 })
      const byRoute = new Map(backlog.routes.map((r: { route: string }) => [r.route, r]))
      assert.deepInclude(byRoute.get(route), { pending: 1, leased: 0, dead: 0 })
      assert.deepStrictEqual(byRoute.get("quiet"), {
        route: "quiet",
        pending: 0,
        leased: 0,
        dead: 0,
        oldest_pending_age_s: null
      })
      const rates = JSON.parse((yield* call("/api/rates")).text)
      assert.strictEqual(rates.scope, "process")
      assert.deepStrictEqual(
        rates.routes.map((r: { route: string }) => r.route),
        [route, "quiet"]
      )
      assert.deepStrictEqual(JSON.parse((yield* call("/api/sources")).text), { sources: [] })
    })
  )
})

describe("RateHistory", () => {
  it.effect("turns this process's route counters into rates per sample interval, within the window", () =>
    Effect.gen(function* () {
      const route = fresh("rates")
      const history = yield* RateHistory.make([route], { interval: "10 seconds", window: "30 seconds" })
      yield* Metric.update(Metrics.forRoute(Metrics.delivered, route), 50)
      yield* Metric.update(Metrics.forRoute(Metrics.retried, route), 10)
      yield* TestClock.adjust("10 seconds")
      yield* history.sample
      yield* Metric.update(Metrics.forRoute(Metrics.deadLettered, route), 5)
      yield* TestClock.adjust("5 seconds")
      const report = yield* history.report
      assert.deepStrictEqual(report.interval_s, 10)
      const points = report.routes[0]!.points
      assert.deepStrictEqual(
        points.map((p) => [p.span_s, p.delivered_per_s, p.retried_per_s, p.dead_lettered_per_s]),
        [
          [10, 5, 1, 0],
          // The span from the last sample to now.
          [5, 0, 0, 1]
        ]
      )
      // 30 s of 10 s spans: 3 spans (4 samples) kept, the oldest dropped.
      for (let i = 0; i < 5; i++) {
        yield* TestClock.adjust("10 seconds")
        yield* history.sample
      }
      const kept = (yield* history.report).routes[0]!.points
      assert.strictEqual(kept.length, 3)
      assert.isTrue(kept.every((p) => p.delivered_per_s === 0))
    })
  )
})

describe("SourceHealth", () => {
  it.effect("records each fetch's time, outcome and error, and failures in a row", () =>
    Effect.gen(function* () {
      const name = fresh("source")
      const health = SourceHealth.make([name, "idle"])
      const outcomes = [
        Effect.fail(new SourceError({ source: name, reason: "HTTP 503", retryable: true })),
        Effect.fail(new SourceError({ source: name, reason: "HTTP 502", retryable: true })),
        Effect.succeed({ payloads: [], failures: [{ subject: "ZZZ", reason: "unknown symbol", retryable: false }] }),
        Effect.succeed({ payloads: [], failures: [] })
      ]
      let tick = 0
      const source = health.track({
        name,
        fetch: Effect.suspend(() => outcomes[tick++]!),
        transform: () => Effect.succeed({ events: [], issues: [] })
      })
      const report = () => Effect.map(health.report, (all) => all.find((s) => s.source === name)!)
      assert.deepInclude(yield* report(), { last_tick_at: null, last_outcome: null, ticks: 0 })
      yield* TestClock.adjust("1 minute")
      yield* Effect.ignore(source.fetch)
      yield* Effect.ignore(source.fetch)
      assert.deepInclude(yield* report(), {
        last_tick_at: "1970-01-01T00:01:00.000Z",
        last_outcome: "failed",
        last_error: "HTTP 502",
        consecutive_failures: 2,
        ticks: 2
      })
      yield* source.fetch
      assert.deepInclude(yield* report(), {
        last_outcome: "partial",
        last_error: "ZZZ: unknown symbol",
        consecutive_failures: 0
      })
      yield* source.fetch
      assert.deepInclude(yield* report(), { last_outcome: "ok", last_error: null, ticks: 4 })
      assert.deepStrictEqual(
        (yield* health.report).map((s) => s.source),
        ["idle", name].sort()
      )
    })
  )
})
