/**
 * The README's config tables against the config schema: every field of each section has a row and
 * every row names a field; a row's default is what decoding fills in (or `none` / `required`), and a
 * range in its type column is the schema's. The meaning column is prose and is not compared.
 */
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Schema } from "effect"
import { SluiceConfig } from "../src/Config.ts"

const root = join(import.meta.dirname, "..")
const readme = readFileSync(join(root, "README.md"), "utf8")

interface JsonSchema {
  readonly type?: string
  readonly properties?: Record<string, JsonSchema>
  readonly required?: ReadonlyArray<string>
  readonly items?: JsonSchema
  readonly minimum?: number
  readonly maximum?: number
  readonly allOf?: ReadonlyArray<JsonSchema>
}
const jsonSchema = JSON.parse(readFileSync(join(root, "sluice.schema.json"), "utf8")) as JsonSchema

/**
 * A config with every section's required fields, decoded (which fills in every default) and encoded
 * back: the defaults as a config file writes them.
 */
const withDefaults = Schema.encodeSync(SluiceConfig)(
  Schema.decodeUnknownSync(SluiceConfig)({
    sources: [{ name: "s", plugin: "p" }],
    transports: [{ name: "t", plugin: "p" }],
    routes: [{ name: "r", transport: "t", topic: "x", match: ["a.b"] }],
    projections: [{ name: "p", plugin: "p" }],
    telemetry: { otlp: { endpoint: "http://127.0.0.1:4318" } }
  })
) as unknown as Record<string, unknown>

/** Optional fields whose default core applies when it reads them (Routing.ts), not the schema. */
const appliedByCore: Record<string, unknown> = { "routes[].ordered": false, "routes[].publish": "stored" }

interface Row {
  readonly field: string
  readonly type: string
  readonly default: string
}

/** The rows of the table right under `### \`section\``. */
const rowsOf = (section: string): ReadonlyArray<Row> => {
  const start = readme.indexOf(`\n### \`${section}\`\n`)
  assert.isAtLeast(start, 0, `README has no section ${section}`)
  const rest = readme
    .slice(start + 1)
    .split("\n")
    .slice(1)
  const end = rest.findIndex((line) => line.startsWith("#"))
  const lines = rest.slice(0, end === -1 ? undefined : end).filter((line) => line.startsWith("| `"))
  return lines.map((line) => {
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((cell) => cell.trim())
    return { field: cells[0]!.replace(/^`|`$/g, ""), type: cells[1]!, default: cells[2]! }
  })
}

/** The object schema of a section (its items' for a list) and its decoded value. */
const sectionOf = (section: string) => {
  const name = section.replace("[]", "")
  const schema = jsonSchema.properties![name]!
  const value = withDefaults[name]
  return section.endsWith("[]")
    ? { schema: schema.items!, value: (value as ReadonlyArray<unknown>)[0] as Record<string, unknown> }
    : { schema, value: value as Record<string, unknown> }
}

/** The schema and the decoded value of a dotted field, and whether its parent requires it. */
const fieldOf = (section: string, field: string) => {
  let { schema, value } = sectionOf(section) as { schema: JsonSchema | undefined; value: unknown }
  let required = false
  for (const key of field.split(".")) {
    required = schema?.required?.includes(key) ?? false
    schema = schema?.properties?.[key]
    value = (value as Record<string, unknown> | undefined)?.[key]
  }
  return { schema, value, required }
}

const bounds = (schema: JsonSchema) => {
  const all = [schema, ...(schema.allOf ?? [])]
  const safe = (n: number | undefined) => (n === undefined || Math.abs(n) >= Number.MAX_SAFE_INTEGER ? undefined : n)
  return {
    minimum: all.map((s) => safe(s.minimum)).findLast((n) => n !== undefined),
    maximum: all.map((s) => safe(s.maximum)).findLast((n) => n !== undefined)
  }
}

const sections = [
  "store",
  "sources[]",
  "transports[]",
  "routes[]",
  "relay",
  "admin",
  "logging",
  "retention",
  "projections[]",
  "telemetry"
]

describe("the README's config tables", () => {
  it("cover every section of the schema", () => {
    assert.deepStrictEqual(
      [...sections].map((s) => s.replace("[]", "")).sort(),
      Object.keys(jsonSchema.properties!)
        .filter((key) => key !== "$schema")
        .sort()
    )
  })

  for (const section of sections) {
    it(`${section}: one row per field, with the schema's defaults and ranges`, () => {
      const rows = rowsOf(section)
      const { schema } = sectionOf(section)
      // A field is covered by its own row or by rows of its fields (`retry.maxAttempts`).
      const fields = Object.keys(schema.properties ?? {})
      const covered = (field: string) => rows.some((row) => row.field === field || row.field.startsWith(`${field}.`))
      assert.deepStrictEqual(
        fields.filter((field) => !covered(field)),
        [],
        `fields of ${section} without a README row`
      )
      for (const row of rows) {
        const where = `${section} ${row.field}`
        const field = fieldOf(section, row.field)
        assert.isDefined(field.schema, `${where}: the README names a field the schema does not have`)
        if (row.default === "required") assert.isTrue(field.required, `${where}: README says required`)
        else assert.isFalse(field.required, `${where}: the schema requires it, the README gives a default`)
        if (row.default === "none") assert.isUndefined(field.value, `${where}: README says no default`)
        const literal = /^`([^`]+)`$/.exec(row.default)?.[1]
        if (literal !== undefined) {
          const key = `${section}.${row.field}`
          const actual = field.value === undefined && key in appliedByCore ? appliedByCore[key] : field.value
          assert.deepStrictEqual(actual, JSON.parse(literal), `${where}: default`)
        }
        const range = /^(\d+)\.\.(\d+)$/.exec(row.type) ?? /^integer ≥ (\d+)$/.exec(row.type)
        if (range !== null) {
          const { minimum, maximum } = bounds(field.schema!)
          assert.strictEqual(minimum, Number(range[1]), `${where}: least value`)
          if (range[2] !== undefined) assert.strictEqual(maximum, Number(range[2]), `${where}: greatest value`)
        }
      }
    })
  }
})
