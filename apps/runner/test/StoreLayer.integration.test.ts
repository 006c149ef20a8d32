/**
 * Choosing the store from config and environment, and the embedded PGlite store: migrated on
 * start, ready, and durable across reopenings of its data directory.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { EventStore } from "@sluice/core"
import { makeBatch, makeEvent } from "@sluice/core/testing"
import { Effect, Redacted } from "effect"
import { chooseStore, describeStore, StoreHealth, storeLayer } from "../src/StoreLayer.ts"
import { withEnv } from "./support/config.ts"

const base = { driver: "auto", dataDir: ".sluice", schema: "sluice", poolSize: 10 } as const

describe("choosing the store", () => {
  it.effect("auto: PGlite in dataDir without a URL, PostgreSQL with one; DATABASE_URL wins", () =>
    Effect.gen(function* () {
      assert.deepStrictEqual(yield* chooseStore(base).pipe(withEnv()), {
        _tag: "embedded",
        dataDir: resolve(".sluice"),
        schema: "sluice"
      })
      const fromConfig = yield* chooseStore({ ...base, url: Redacted.make("postgres://a@h1/db") }).pipe(withEnv())
      assert.strictEqual(fromConfig._tag, "postgres")
      const fromEnv = yield* chooseStore({ ...base, url: Redacted.make("postgres://a@h1/db") }).pipe(
        withEnv({ DATABASE_URL: "postgres://u:pw@h2:5433/other" })
      )
      assert.strictEqual(fromEnv._tag === "postgres" && Redacted.value(fromEnv.url), "postgres://u:pw@h2:5433/other")
      assert.strictEqual(describeStore(fromEnv), "PostgreSQL at h2:5433/other (URL from DATABASE_URL) (schema sluice)")
      assert.strictEqual(describeStore(fromConfig), "PostgreSQL at h1:5432/db (schema sluice)")
      assert.notInclude(describeStore(fromEnv), "pw")
      assert.strictEqual(
        (yield* chooseStore({ ...base, driver: "embedded" }).pipe(withEnv({ DATABASE_URL: "postgres://x" })))._tag,
        "embedded"
      )
      const missing = yield* Effect.flip(chooseStore({ ...base, driver: "postgres" }).pipe(withEnv()))
      assert.strictEqual(missing._tag, "MissingDatabaseUrlError")
      assert.include(missing.message, "set store.url or DATABASE_URL")
    })
  )

  it.live(
    "the embedded store migrates on start, reports ready and keeps data in its directory",
    () =>
      Effect.gen(function* () {
        const root = mkdtempSync(join(tmpdir(), "sluice-pglite-"))
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => rmSync(root, { recursive: true, force: true, maxRetries: 5 }))
        )
        const dataDir = join(root, "data")
        const choice = { _tag: "embedded", dataDir, schema: "sluice" } as const
        const appended = yield* Effect.gen(function* () {
          const store = yield* EventStore
          assert.deepStrictEqual(yield* (yield* StoreHealth).check, { database: true, migrations: true })
          return (yield* store.append(yield* makeBatch([makeEvent()], ["r"]))).appended
        }).pipe(Effect.provide(storeLayer(choice)))
        const reopened = yield* Effect.gen(function* () {
          return yield* (yield* EventStore).readEvents(0, 10)
        }).pipe(Effect.provide(storeLayer(choice)))
        assert.deepStrictEqual(
          reopened.map((e) => e.event.event_id),
          appended
        )
      }).pipe(Effect.scoped),
    // Opens PGlite on disk twice: about 5 s on a 2-core machine, right at vitest's default limit.
    30_000
  )
})
