import { resolve } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Plugin } from "@sluice/core"
import { Schema } from "effect"
import { CsvSourceConfig } from "./plugin-options.ts"

describe("a FilePath option (docs/writing-a-plugin.md)", () => {
  it("is resolved against the config file's folder, as the runner does before decoding; others are kept", () => {
    const fromConfig = (options: unknown) =>
      Schema.decodeUnknownSync(CsvSourceConfig)(
        Plugin.mapFilePaths(CsvSourceConfig, options, (path) => resolve("/srv/app", path))
      )
    expect(fromConfig({ file: "exports/prices.csv", separator: ";" })).toEqual({
      file: "/srv/app/exports/prices.csv",
      separator: ";"
    })
    expect(fromConfig({ file: "/data/prices.csv" })).toEqual({ file: "/data/prices.csv" })
    expect(() => fromConfig({ file: "" })).toThrow("a non-empty path")
  })
})
