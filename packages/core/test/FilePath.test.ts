import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { FilePath, mapFilePaths } from "../src/FilePath.ts"

const under = (path: string) => `/base/${path}`

describe("mapFilePaths", () => {
  it("maps the FilePath values of a struct, optional or not, and leaves every other value alone", () => {
    const schema = Schema.Struct({
      dir: FilePath,
      file: Schema.optionalKey(FilePath),
      name: Schema.String,
      nested: Schema.optionalKey(Schema.Struct({ at: FilePath }))
    })
    const options = { dir: "data", file: "a.json", name: "data", nested: { at: "x" }, extra: "y" }
    assert.deepStrictEqual(mapFilePaths(schema, options, under), {
      dir: "/base/data",
      file: "/base/a.json",
      name: "data",
      nested: { at: "/base/x" },
      extra: "y"
    })
    assert.deepStrictEqual(options.dir, "data", "the input is not changed")
    assert.deepStrictEqual(mapFilePaths(schema, { name: "n" }, under), { name: "n" })
  })

  it("finds paths in arrays, tuples, records, unions and behind further checks", () => {
    const schema = Schema.Struct({
      list: Schema.Array(FilePath),
      pair: Schema.Tuple([Schema.String, FilePath]),
      byName: Schema.Record(Schema.String, FilePath),
      either: Schema.Union([Schema.Literal("none"), FilePath]),
      checked: FilePath.pipe(Schema.check(Schema.isMaxLength(100)))
    })
    assert.deepStrictEqual(
      mapFilePaths(
        schema,
        { list: ["a", "b"], pair: ["k", "v"], byName: { x: "p" }, either: "none", checked: "c" },
        under
      ),
      {
        list: ["/base/a", "/base/b"],
        pair: ["k", "/base/v"],
        byName: { x: "/base/p" },
        either: "none",
        checked: "/base/c"
      }
    )
    assert.strictEqual((mapFilePaths(schema, { either: "file" }, under) as { either: string }).either, "/base/file")
  })

  it("leaves values that do not fit the schema for the decoder to report", () => {
    const schema = Schema.Struct({ dir: FilePath, list: Schema.Array(FilePath) })
    assert.deepStrictEqual(mapFilePaths(schema, { dir: 3, list: "a" }, under), { dir: 3, list: "a" })
    assert.deepStrictEqual(mapFilePaths(schema, { dir: "" }, under), { dir: "" })
    assert.strictEqual(mapFilePaths(schema, "text", under), "text")
  })

  it("FilePath decodes a non-empty string, and says so otherwise", () => {
    assert.strictEqual(Schema.decodeUnknownSync(FilePath)("a/b"), "a/b")
    assert.throws(() => Schema.decodeUnknownSync(FilePath)(""), /Expected a non-empty path/)
  })
})
