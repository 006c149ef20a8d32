/**
 * The Yahoo read model's tables belong to one pipeline: run by the runner, its setup records the
 * store schema it was set up for and refuses another (two pipelines sharing a database with
 * different `store.schema` would replay into each other's rows, and a rebuild of one would empty
 * the other's).
 */
import { describe, expect, it } from "@effect/vitest"
import { ReadModelOwnedError, YahooReadModelPlugin } from "@sluice/plugin-yfinance/read-model"
import { PgEventStore } from "@sluice/store-postgres"
import { Effect, Exit } from "effect"

const setupFor = (storeSchema: string | undefined, schema?: string) =>
  Effect.flatMap(
    YahooReadModelPlugin.make(schema === undefined ? {} : { schema }, "yahoo-read-model", { storeSchema }),
    (instance) => instance.setup ?? Effect.void
  )

describe("the Yahoo read model's owner", () => {
  it.effect("the first store schema to set its tables up owns them; another is refused, naming both", () =>
    Effect.gen(function* () {
      yield* setupFor("offline")
      yield* setupFor("offline")
      const other = yield* Effect.exit(setupFor("fresh"))
      expect(Exit.isFailure(other)).toBe(true)
      const error = Exit.isFailure(other) ? other.cause.reasons[0] : undefined
      const failure = error?._tag === "Fail" ? error.error : undefined
      expect(failure).toBeInstanceOf(ReadModelOwnedError)
      expect(String(failure)).toContain(
        'schema "public" belong to the pipeline whose store schema is "offline", not "fresh"'
      )
      // Its own tables are its own; code that builds the read model itself (no context) is not checked.
      yield* setupFor("fresh", "fresh_read_model")
      yield* setupFor(undefined)
    }).pipe(Effect.provide(PgEventStore.layerPglite({})))
  )
})
