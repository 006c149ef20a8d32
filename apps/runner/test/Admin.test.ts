/**
 * The admin HTTP API over a memory store, served in process through a web handler: health,
 * readiness, Prometheus metrics, the dead-letter endpoints and bearer-token enforcement.
 */
import { assert, describe, it } from "@effect/vitest"
import { EventStore, MemoryEventStore, OutboxAdmin, OutboxQueue, permanent, Relay, Transports } from "@sluice/core"
import { MemoryTransport, makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Layer, Redacted } from "effect"
import { HttpRouter, HttpServer } from "effect/http"
import * as Admin from "../src/Admin.ts"
import { hostRule } from "../src/AdminGuards.ts"
import { StoreHealth } from "../src/StoreLayer.ts"

const token = "s3cret-token-0123456789"

/** An admin web handler over a memory store holding two dead letters and one pending row. */
const setup = (
  options: {
    readonly token?: string
    readonly ready?: boolean
    readonly route?: string
    readonly stopping?: boolean
    /** Let the store's `stats` be read (`/api/status` does, on request; a scrape must not). */
    readonly stats?: boolean
    /** The config's routes (their gauges read 0 before any row). */
    readonly routes?: ReadonlyArray<string>
  } = {}
) =>
  Effect.gen(function* () {
    // Metrics live in the process-wide registry (as in the runner): a fresh route name keeps counts exact.
    const route = options.route ?? "hooks"
    const stores = yield* MemoryEventStore.makeStores
    const store = stores.eventStore
    const transport = yield* MemoryTransport.make("hook", (envelope) =>
      envelope.event.event_type === "bad.thing" ? permanent("HTTP 422: nope") : permanent("HTTP 410: gone")
    )
    yield* store.append(
      yield* makeBatch([makeEvent({ event_type: "bad.thing" }), makeEvent({ event_type: "other.thing" })], [route])
    )
    yield* Relay.runOnce({ routes: [{ name: route, transport: "hook", topic: "t", match: ["**"] }] }).pipe(
      Effect.provideService(OutboxQueue, stores.outboxQueue),
      Effect.provideService(Transports, Transports.makeOf([transport.transport]))
    )
    yield* store.append(yield* makeBatch([makeEvent()], ["later"]))
    const ready = options.ready ?? true
    // The admin server gets the log and the outbox's admin port, not the relays' queue.
    const services = Layer.mergeAll(
      Layer.succeed(EventStore, store),
      // `stats` reads every delivered row on a database: the admin server (`/metrics` on every
      // scrape) must use `backlog`.
      Layer.succeed(
        OutboxAdmin,
        options.stats === true
          ? stores.outboxAdmin
          : { ...stores.outboxAdmin, stats: Effect.die("the admin server read stats") }
      ),
      Layer.succeed(StoreHealth, StoreHealth.of({ check: Effect.succeed({ database: ready, migrations: ready }) })),
      HttpServer.layerServices
    )
    const { handler, dispose } = HttpRouter.toWebHandler(
      Admin.routes({
        token: options.token === undefined ? undefined : Redacted.make(options.token),
        stopping: Effect.succeed(options.stopping ?? false),
        hosts: hostRule("127.0.0.1", 9464, ["admin"]),
        routes: options.routes?.map((name) => (name === "throttled" ? { name, rateLimit: 5 } : { name }))
      }).pipe(Layer.provide(services)),
      { disableLogger: true }
    )
    yield* Effect.addFinalizer(() => Effect.promise(() => dispose()))
    const call = (path: string, init: RequestInit = {}) =>
      Effect.promise(async () => {
        const headers = new Headers(init.headers)
        if (!headers.has("host")) headers.set("host", "admin")
        if (init.method === "POST" && !headers.has("content-type")) headers.set("content-type", "application/json")
        const response = await handler(new Request(`http://admin${path}`, { ...init, headers }))
        return { status: response.status, text: await response.text() }
      })
    return { call, stores }
  })

describe("admin HTTP API", () => {
  it.live("healthz, readyz and metrics", () =>
    Effect.gen(function* () {
      const route = `hooks-${Math.random().toString(36).slice(2)}`
      const { call } = yield* setup({ route })
      assert.deepStrictEqual(yield* call("/healthz"), { status: 200, text: '{"status":"ok"}' })
      const ready = yield* call("/readyz")
      assert.strictEqual(ready.status, 200)
      assert.deepStrictEqual(JSON.parse(ready.text), { ready: true, database: true, migrations: true })
      const metrics = yield* call("/metrics")
      assert.strictEqual(metrics.status, 200)
      assert.include(metrics.text, `sluice_dead_lettered_total{route="${route}"} 2`)
      assert.include(metrics.text, "# TYPE sluice_publish_duration_seconds histogram")
      assert.include(metrics.text, 'sluice_outbox_pending{route="later"} 1')
      assert.include(metrics.text, `sluice_outbox_dead{route="${route}"} 2`)
      assert.match(metrics.text, /sluice_outbox_oldest_pending_age_seconds\{route="later"\} \d/)
      // Per route only: an unlabelled total in the same family would double every sum().
      assert.notMatch(metrics.text, /^sluice_outbox_pending \d/m)
    })
  )

  it.live("a route whose backlog was delivered shows 0, not its last value", () =>
    Effect.gen(function* () {
      const { call, stores } = yield* setup()
      const drained = `drained-${Math.random().toString(36).slice(2)}`
      yield* stores.eventStore.append(yield* makeBatch([makeEvent()], [drained]))
      assert.include((yield* call("/metrics")).text, `sluice_outbox_pending{route="${drained}"} 1`)
      const transport = yield* MemoryTransport.make("ok")
      yield* Relay.runOnce({ routes: [{ name: drained, transport: "ok", topic: "t", match: ["**"] }] }).pipe(
        Effect.provideService(OutboxQueue, stores.outboxQueue),
        Effect.provideService(Transports, Transports.makeOf([transport.transport]))
      )
      assert.include((yield* call("/metrics")).text, `sluice_outbox_pending{route="${drained}"} 0`)
    })
  )

  it.live("a configured route with no rows yet reads 0", () =>
    Effect.gen(function* () {
      const quiet = `quiet-${Math.random().toString(36).slice(2)}`
      const { call } = yield* setup({ routes: [quiet] })
      const text = (yield* call("/metrics")).text
      for (const gauge of ["pending", "leased", "dead", "oldest_pending_age_seconds"])
        assert.include(text, `sluice_outbox_${gauge}{route="${quiet}"} 0`)
    })
  )

  it.live("routes: listed with their pause and rate limit; pause and resume; bad names refused", () =>
    Effect.gen(function* () {
      const { call } = yield* setup({ routes: ["throttled", "plain"] })
      const list = () => Effect.map(call("/api/routes"), (r) => JSON.parse(r.text) as Array<Record<string, unknown>>)
      assert.deepStrictEqual(
        (yield* list()).map((r) => [r.route, r.paused, r.rate_limit_per_s]),
        [
          ["plain", false, null],
          ["throttled", false, 5]
        ]
      )
      const paused = yield* call("/api/routes/plain/pause", { method: "POST", body: '{"reason":"receiver down"}' })
      assert.deepStrictEqual(JSON.parse(paused.text), { route: "plain", paused: true, changed: true })
      const again = yield* call("/api/routes/plain/pause", { method: "POST", body: "{}" })
      assert.deepStrictEqual(JSON.parse(again.text), { route: "plain", paused: true, changed: false })
      const listed = (yield* list()).find((r) => r.route === "plain")!
      assert.deepInclude(listed, { paused: true, reason: "receiver down" })
      assert.match(String(listed.paused_at), /^\d{4}-\d\d-\d\dT/)
      assert.include((yield* call("/metrics")).text, 'sluice_route_paused{route="plain"} 1')
      const resumed = yield* call("/api/routes/plain/resume", { method: "POST", body: "{}" })
      assert.deepStrictEqual(JSON.parse(resumed.text), { route: "plain", paused: false, changed: true })
      assert.include((yield* call("/metrics")).text, 'sluice_route_paused{route="plain"} 0')
      assert.strictEqual((yield* call("/api/routes/bad%20name/pause", { method: "POST", body: "{}" })).status, 400)
      assert.strictEqual((yield* call("/api/routes/plain/pause", { method: "POST", body: '{"why":1}' })).status, 400)
      assert.strictEqual((yield* call("/api/routes/plain/pause")).status, 405)
    })
  )

  it.live("readyz answers 503 when the database is not ready", () =>
    Effect.gen(function* () {
      const { call } = yield* setup({ ready: false })
      const ready = yield* call("/readyz")
      assert.strictEqual(ready.status, 503)
      assert.strictEqual(JSON.parse(ready.text).ready, false)
    })
  )

  it.live("readyz answers 503 while the process is stopping", () =>
    Effect.gen(function* () {
      const { call } = yield* setup({ stopping: true })
      const ready = yield* call("/readyz")
      assert.strictEqual(ready.status, 503)
      assert.strictEqual(JSON.parse(ready.text).detail, "stopping")
      assert.strictEqual((yield* call("/healthz")).status, 200)
    })
  )

  it.live("lists, shows and replays dead letters", () =>
    Effect.gen(function* () {
      const { call, stores } = yield* setup()
      const list = JSON.parse((yield* call("/api/dead-letters")).text) as {
        dead_letters: Array<{ outbox_id: string; last_error: string; route: string }>
      }
      assert.strictEqual(list.dead_letters.length, 2)
      assert.deepStrictEqual(
        list.dead_letters.map((d) => d.last_error),
        ["permanent: HTTP 422: nope", "permanent: HTTP 410: gone"]
      )
      const [first, second] = list.dead_letters
      const shown = yield* call(`/api/dead-letters/${first!.outbox_id}`)
      assert.strictEqual(shown.status, 200)
      assert.strictEqual(JSON.parse(shown.text).event.event_type, "bad.thing")
      assert.strictEqual((yield* call("/api/dead-letters/999")).status, 404)

      const one = yield* call(`/api/dead-letters/${first!.outbox_id}/replay`, { method: "POST" })
      assert.deepStrictEqual(JSON.parse(one.text), { replayed: 1 })
      const empty = yield* call("/api/dead-letters/replay", { method: "POST", body: "{}" })
      assert.strictEqual(empty.status, 400)
      const bad = yield* call("/api/dead-letters/replay", { method: "POST", body: '{"ids":[1]}' })
      assert.strictEqual(bad.status, 400)
      const byRoute = yield* call("/api/dead-letters/replay", { method: "POST", body: '{"route":"hooks"}' })
      assert.deepStrictEqual(JSON.parse(byRoute.text), { replayed: 1, not_dead_letters: [] })
      const unknown = yield* call("/api/dead-letters/replay", { method: "POST", body: '{"ids":["999"]}' })
      assert.deepStrictEqual(JSON.parse(unknown.text), { replayed: 0, not_dead_letters: ["999"] })
      const rows = yield* stores.outboxAdmin.listOutbox({ outboxIds: [first!.outbox_id, second!.outbox_id] as never })
      assert.deepStrictEqual(
        rows.map((r) => [r.status, r.attempts, r.replays]),
        [
          ["pending", 0, 1],
          ["pending", 0, 1]
        ]
      )
      assert.strictEqual(JSON.parse((yield* call("/api/dead-letters")).text).dead_letters.length, 0)
    })
  )

  it.live("pages dead letters with next_after, reports status and purges only when confirmed", () =>
    Effect.gen(function* () {
      const { call } = yield* setup({ stats: true })
      const first = JSON.parse((yield* call("/api/dead-letters?limit=1")).text)
      assert.strictEqual(first.dead_letters.length, 1)
      assert.strictEqual(first.next_after, first.dead_letters[0].outbox_id)
      const second = JSON.parse((yield* call(`/api/dead-letters?limit=1&after=${first.next_after}`)).text)
      assert.notStrictEqual(second.dead_letters[0].outbox_id, first.next_after)
      assert.strictEqual(JSON.parse((yield* call("/api/dead-letters")).text).next_after, null)

      const status = yield* call("/api/status?sample_ms=0")
      assert.strictEqual(status.status, 200)
      assert.deepInclude(JSON.parse(status.text), { backlog: 1, dead_letters: 2, sample_s: 0 })

      const unconfirmed = yield* call("/api/dead-letters/purge", { method: "POST", body: '{"route":"hooks"}' })
      assert.strictEqual(unconfirmed.status, 400)
      assert.include(unconfirmed.text, "confirm: true")
      const purged = yield* call("/api/dead-letters/purge", { method: "POST", body: '{"confirm":true}' })
      assert.deepStrictEqual(JSON.parse(purged.text), { purged: 2 })
    })
  )

  it.live("with a token, every endpoint but healthz needs the bearer token", () =>
    Effect.gen(function* () {
      const { call } = yield* setup({ token })
      assert.strictEqual((yield* call("/healthz")).status, 200)
      for (const path of ["/readyz", "/metrics", "/api/dead-letters"]) {
        assert.strictEqual((yield* call(path)).status, 401, path)
        assert.strictEqual((yield* call(path, { headers: { authorization: "Bearer wrong" } })).status, 401, path)
        assert.strictEqual((yield* call(path, { headers: { authorization: `Bearer ${token}` } })).status, 200, path)
      }
      const replay = yield* call("/api/dead-letters/replay", { method: "POST", body: '{"all":true}' })
      assert.strictEqual(replay.status, 401)
      // A read model's rows, whether or not the name is configured.
      assert.strictEqual((yield* call("/api/projections/quotes")).status, 401)
    })
  )
})

describe("admin Host rule", () => {
  it("answers the loopback names, the configured host and allowedHosts, with the bound port", () => {
    const rule = hostRule("127.0.0.1", 9464, ["sluice.internal", "proxy.example:8443"])
    assert.deepStrictEqual([...rule.exact].sort(), [
      "127.0.0.1:9464",
      "[::1]:9464",
      "localhost:9464",
      "proxy.example:8443",
      "sluice.internal",
      "sluice.internal:9464"
    ])
    assert.strictEqual(rule.anyIpOnPort, undefined)
    // Clients leave the default port out of Host.
    assert.deepStrictEqual([...hostRule("::1", 80).exact].sort(), ["127.0.0.1", "[::1]", "localhost"])
  })

  it("bound to every address, also takes any IP literal (never a name) on the bound port", () => {
    const rule = hostRule("0.0.0.0", 9464)
    assert.strictEqual(rule.anyIpOnPort, 9464)
  })
})
