/**
 * No network: the first request that reaches no Yahoo server logs, once per source, how to run
 * without network; later failures keep being logged without it, and Yahoo's own 5xx never says so.
 */
import { readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Ingest, layerMemory } from "@sluice/core"
import { Effect, Fiber, Layer } from "effect"
import { TestClock } from "effect/testing"
import { offlineHint, replayDocs, runsFromCheckout } from "../src/OfflineHint.ts"
import { captureLogs, type LogLine, logged } from "./support/logs.ts"
import { router, sourceOf } from "./support/pipeline.ts"
import { replay } from "./support/recordings.ts"

/** What Node's fetch rejects with when DNS cannot resolve the host. */
const dnsFailure = (host: string) =>
  new TypeError("fetch failed", {
    cause: Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), {
      code: "ENOTFOUND",
      syscall: "getaddrinfo",
      hostname: host
    })
  })

const noNetwork = () =>
  replay([], {
    intercept: ({ url }) => {
      throw dnsFailure(url.hostname)
    }
  })

const hints = (lines: ReadonlyArray<LogLine>) => lines.filter((line) => line.message.includes("No network?"))

/** Waits (real time: the library runs on real promises) until `count` lines match `message`. */
const untilLogged = (message: string, count: number) =>
  Effect.gen(function* () {
    while ((yield* logged).filter((line) => line.message === message).length < count)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 1)))
  })

const layer = Layer.mergeAll(layerMemory, captureLogs)

describe("no network", () => {
  it.effect("the first network failure says once how to run offline; later ones are logged without it", () =>
    Effect.gen(function* () {
      const source = yield* sourceOf({ symbols: ["AAPL", "MSFT"] }, noNetwork().fetch)
      const fiber = yield* Effect.forkChild(Ingest.run(source, router, { interval: "1 minute" }))
      for (let tick = 1; tick <= 4; tick++) {
        yield* untilLogged("tick failed", tick)
        yield* TestClock.adjust("10 minutes")
      }
      yield* Fiber.interrupt(fiber)
      const lines = yield* logged
      const [hint, ...more] = hints(lines)
      assert.deepStrictEqual(more, [])
      assert.strictEqual(hint?.level, "WARN")
      assert.strictEqual(
        hint?.message,
        "Yahoo Finance is unreachable (fetch failed: getaddrinfo ENOTFOUND finance.yahoo.com). No network? " +
          "The offline quickstart replays recorded responses: bin/start examples/quickstart-offline.json (in the Sluice repository)"
      )
      // The hint comes with the first failure; every tick still logs its failure.
      assert.isBelow(
        lines.indexOf(hint!),
        lines.findIndex((line) => line.message === "tick failed")
      )
      const failures = lines.filter((line) => line.message === "fetch failed")
      assert.isAtLeast(failures.length, 4)
      assert.match(
        String(failures[0]?.error),
        /every request failed \(AAPL, MSFT\): network failure: fetch failed: getaddrinfo ENOTFOUND finance\.yahoo\.com/
      )
    }).pipe(Effect.provide(layer))
  )

  it.effect("a refused connection gets the hint too, once per source instance", () =>
    Effect.gen(function* () {
      const refused = replay([], {
        intercept: () => {
          throw new TypeError("fetch failed", {
            cause: Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:443"), { code: "ECONNREFUSED" })
          })
        }
      })
      const first = yield* sourceOf({ symbols: ["AAPL"] }, refused.fetch, "first")
      const second = yield* sourceOf({ mode: "chart", symbols: ["AAPL"], lookback: "1 day" }, refused.fetch, "second")
      for (let i = 0; i < 3; i++) {
        yield* Effect.flip(Ingest.tick(first, router))
        yield* Effect.flip(Ingest.tick(second, router))
      }
      const found = hints(yield* logged)
      assert.strictEqual(found.length, 2)
      for (const hint of found) assert.include(hint.message, "(fetch failed: connect ECONNREFUSED 127.0.0.1:443)")
    }).pipe(Effect.provide(layer))
  )

  it.effect("a request that times out gets the hint", () =>
    Effect.gen(function* () {
      const silent = replay([], { intercept: () => new Promise<Response>(() => {}) })
      const source = yield* sourceOf({ symbols: ["AAPL"], requestTimeout: "5 seconds" }, silent.fetch)
      const fiber = yield* Effect.forkChild(Effect.flip(Ingest.tick(source, router)))
      yield* Effect.promise(async () => {
        while (silent.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 1))
      })
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        hints(yield* logged).map((line) => line.message.slice(0, 58)),
        ["Yahoo Finance is unreachable (no answer within 5s). No net"]
      )
    }).pipe(Effect.provide(layer))
  )

  it.effect("Yahoo's own errors (HTTP 503) are logged without the hint", () =>
    Effect.gen(function* () {
      const failing = replay([], {
        intercept: ({ url }) =>
          url.pathname.startsWith("/v7/finance/quote") ? new Response("busy", { status: 503 }) : undefined
      })
      const source = yield* sourceOf({ symbols: ["AAPL"] }, failing.fetch)
      const error = yield* Effect.flip(Ingest.tick(source, router))
      assert.match(error.message, /Yahoo failed \(HTTP 503\)/)
      const lines = yield* logged
      assert.deepStrictEqual(hints(lines), [])
      assert.isTrue(lines.some((line) => line.message === "fetch failed"))
    }).pipe(Effect.provide(layer))
  )

  it.effect("a network error that quotes the request URL does not put the crumb in the logs", () =>
    Effect.gen(function* () {
      // Deno's fetch errors quote the URL, which for a quote request carries the session's crumb.
      const deno = replay([], {
        intercept: ({ url }) => {
          if (!url.pathname.startsWith("/v7/finance/quote")) return undefined
          throw new TypeError("fetch failed", {
            cause: new Error(`error sending request for url (${url.href}): client error (Connect): dns error`)
          })
        }
      })
      const source = yield* sourceOf({ symbols: ["AAPL"] }, deno.fetch)
      const error = yield* Effect.flip(Ingest.tick(source, router))
      const crumb = new URL(deno.calls.find((call) => call.url.includes("/v7/finance/quote"))!.url).searchParams.get(
        "crumb"
      )
      assert.isNotEmpty(crumb)
      assert.include(error.message, "crumb=<redacted>")
      const text = JSON.stringify(yield* logged)
      assert.include(text, "crumb=<redacted>")
      assert.notInclude(text, `crumb=${crumb}`)
    }).pipe(Effect.provide(layer))
  )
})

describe("where the hint points", () => {
  const detail = "fetch failed: getaddrinfo ENOTFOUND finance.yahoo.com"

  it("from the repository's sources (this test), at the offline quickstart", () => {
    assert.isTrue(runsFromCheckout(new URL("../src/OfflineHint.ts", import.meta.url).href))
    assert.include(offlineHint(detail), "bin/start examples/quickstart-offline.json (in the Sluice repository)")
    assert.strictEqual(offlineHint(detail), offlineHint(detail, "checkout"))
  })

  it("installed from a registry (dist/ in node_modules), where bin/start does not exist, at the replay plugin", () => {
    for (const url of [
      "file:///srv/app/node_modules/@sluice/plugin-yfinance/dist/src/OfflineHint.js",
      "file:///srv/app/node_modules/.pnpm/@sluice+plugin-yfinance@0.1.0/node_modules/@sluice/plugin-yfinance/dist/src/OfflineHint.js",
      // A package linked from a checkout into an app still runs from node_modules' point of view.
      "file:///srv/app/node_modules/@sluice/plugin-yfinance/src/OfflineHint.ts",
      "file:///srv/app/dist/bundle.js"
    ]) {
      assert.isFalse(runsFromCheckout(url), url)
    }
    const hint = offlineHint(detail, "installed")
    assert.strictEqual(
      hint,
      `Yahoo Finance is unreachable (${detail}). No network? The replay plugin answers from recorded responses: ` +
        'give this source "plugin": "@sluice/plugin-yfinance/replay" (the same options; "recordings" may name a ' +
        'directory of your own; the shipped ones answer the quotes of "symbols": ["AAPL", "BABA"] and daily bars of AAPL, BTC-USD, ' +
        `EURUSD=X and GC=F from 2020-01-01 to 2020-01-03), see ${replayDocs}`
    )
    assert.notInclude(hint, "bin/start")
  })

  it("the replay plugin's documentation it links to is this package's README section", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8")
    assert.match(replayDocs, /^https:\/\/github\.com\/sluice-dev\/sluice\/tree\/main\/packages\/plugin-yfinance#/)
    assert.include(readme, "\n## Offline: the replay plugin\n")
    assert.isTrue(replayDocs.endsWith("#offline-the-replay-plugin"))
  })
})
