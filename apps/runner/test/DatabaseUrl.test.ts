/**
 * PostgreSQL URLs checked before postgres.js sees them: what it would throw on (`Invalid URL`,
 * `URI malformed`) and what it would wrongly accept (`mysql://`) are refused with a reason that
 * never quotes the URL; `chooseStore` names `store.url` or `DATABASE_URL`.
 */
import { createRequire } from "node:module"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { describe as describeUrl, problemOf } from "../src/DatabaseUrl.ts"
import { chooseStore } from "../src/StoreLayer.ts"
import { withEnv } from "./support/config.ts"

const base = { driver: "auto", dataDir: ".sluice", schema: "sluice", poolSize: 10 } as const

// postgres.js is store-postgres's dependency (the runner's only through it).
const storePostgres = createRequire(new URL("../../../packages/store-postgres/package.json", import.meta.url))
const { default: postgres } = (await import(storePostgres.resolve("postgres"))) as {
  default: (url: string, options: object) => unknown
}

/** What postgres.js does with the URL when it builds its options (no connection is made). */
const postgresJsAccepts = (url: string): boolean => {
  try {
    postgres(url, { max: 1, connect_timeout: 1 })
    return true
  } catch {
    return false
  }
}

describe("database URLs", () => {
  it("accepts the URLs postgres.js accepts", () => {
    for (const url of [
      "postgres://postgres@127.0.0.1:5432/test",
      "postgresql://u:p%25ss@db.example:6543/app?sslmode=require",
      "postgres://u:pw@h1:5432,h2:5433/db",
      "postgres://u:p@[::1]/db",
      "postgres:///db"
    ]) {
      assert.isUndefined(problemOf(url), url)
      assert.isTrue(postgresJsAccepts(url), url)
    }
  })

  it("refuses what postgres.js throws on, saying what is wrong without quoting the URL", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["not a url", "not a URL"],
      ["postgres://u:secret@h:99999/db", "not a valid URL"],
      ["postgres://u:se%zzcret@h/db", "the password has a '%' that is not a percent-escape"],
      ["postgres://u:secret%@h/db", "write a literal '%' as %25"],
      ["postgres://us%zer:secret@h/db", "the user name has a '%'"]
    ]
    for (const [url, reason] of cases) {
      const problem = problemOf(url)
      assert.include(problem, reason, url)
      assert.notInclude(problem, "secret", url)
      assert.isFalse(postgresJsAccepts(url), `postgres.js throws on ${url}`)
    }
  })

  it("refuses other schemes, which postgres.js would treat as PostgreSQL", () => {
    assert.include(problemOf("mysql://u:secret@h/db"), "a mysql:// URL: only postgres:// and postgresql://")
    assert.isTrue(postgresJsAccepts("mysql://u:secret@h/db"))
  })

  it("describes a URL without its credentials", () => {
    assert.strictEqual(describeUrl("postgres://u:secret@h2:5433/other"), "h2:5433/other")
    assert.strictEqual(describeUrl("postgres://u:secret@db/x"), "db:5432/x")
    assert.strictEqual(describeUrl("postgres://u:se@cret@h1:1,h2:2/x"), "h1:1,h2:2/x")
    assert.strictEqual(describeUrl("not a url secret"), "(invalid URL)")
  })

  it.effect("chooseStore names store.url or DATABASE_URL, exit code 2's DatabaseUrlError", () =>
    Effect.gen(function* () {
      const fromFile = yield* Effect.flip(
        chooseStore({ ...base, url: Redacted.make("mysql://u:secret@h/db") }).pipe(withEnv())
      )
      assert.strictEqual(fromFile._tag, "DatabaseUrlError")
      assert.include(fromFile.message, "store.url: a mysql:// URL")
      const fromEnv = yield* Effect.flip(chooseStore(base).pipe(withEnv({ DATABASE_URL: "postgres://u:sec%ret@h/db" })))
      assert.include(fromEnv.message, "DATABASE_URL: the password has a '%'")
      assert.notInclude(fromEnv.message, "sec")
      // The embedded and memory drivers never use DATABASE_URL.
      assert.strictEqual(
        (yield* chooseStore({ ...base, driver: "memory" }).pipe(withEnv({ DATABASE_URL: "not a url" })))._tag,
        "memory"
      )
    })
  )
})
