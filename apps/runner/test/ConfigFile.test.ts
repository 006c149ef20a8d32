/**
 * Config files on disk: a TypeScript config, the shipped examples, and the committed
 * sluice.schema.json against the generated one.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { load } from "../src/ConfigFile.ts"
import { configJsonSchema } from "../src/JsonSchema.ts"
import { plan } from "../src/Plan.ts"
import { withEnv } from "./support/config.ts"

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname

describe("config files", () => {
  it.effect("a TypeScript config exporting defineConfig(...) loads and plans like JSON", () =>
    Effect.gen(function* () {
      const loaded = yield* load(fixture("sluice.config.ts")).pipe(withEnv())
      assert.strictEqual(loaded.config.store.driver, "memory")
      const checked = yield* plan(loaded)
      assert.deepStrictEqual(
        checked.sources.map((s) => s.plugin.name),
        ["counter-source"]
      )
    })
  )

  it.effect("store.dataDir is relative to the config file's folder, like every path in it", () =>
    Effect.gen(function* () {
      const loaded = yield* load(fixture("sluice.config.ts")).pipe(withEnv())
      assert.strictEqual(loaded.config.store.dataDir, fixture(".sluice"))
      assert.strictEqual(loaded.dir, fixture("").replace(/\/$/, ""))
    })
  )

  it.effect("a JSON file may carry comments and start with a byte-order mark", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "sluice-config-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => rmSync(dir, { recursive: true, force: true, maxRetries: 5 })))
      const file = join(dir, "sluice.json")
      writeFileSync(file, '\uFEFF{\n  // memory only\n  "store": { "driver": "memory" /* trials */ }\n}\n')
      const loaded = yield* load(file).pipe(withEnv())
      assert.strictEqual(loaded.config.store.driver, "memory")
      assert.strictEqual(loaded.config.store.dataDir, join(dir, ".sluice"))
    }).pipe(Effect.scoped)
  )

  it.effect("the example configs are valid", () =>
    Effect.gen(function* () {
      for (const name of ["quickstart.json", "quickstart-offline.json"]) {
        const path = new URL(`../../../examples/${name}`, import.meta.url).pathname
        const checked = yield* Effect.flatMap(load(path).pipe(withEnv()), plan)
        assert.isAbove(checked.sources.length, 0, name)
      }
    })
  )

  it("the committed sluice.schema.json is the generated one (run `sluice config schema`)", () => {
    const committed = JSON.parse(readFileSync(new URL("../sluice.schema.json", import.meta.url), "utf8"))
    assert.deepStrictEqual(committed, JSON.parse(JSON.stringify(configJsonSchema())))
  })
})
