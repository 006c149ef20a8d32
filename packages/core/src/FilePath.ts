/**
 * Paths in plugin options. A plugin marks an option as a file or directory path by giving it the
 * `FilePath` schema; a host that reads options from a file (the `sluice` runner) rewrites those
 * values with `mapFilePaths` before decoding, so a relative path means "relative to the config
 * file" for every plugin alike, without the plugin knowing where its config came from. Used from
 * code, a path is whatever the plugin's file API makes of it (relative to the working directory).
 */
import { Schema, SchemaAST } from "effect"

const filePathKey = "@sluice/core/FilePath"

/** A non-empty path to a file or directory, marked so hosts can resolve it (see `mapFilePaths`). */
export const FilePath = Schema.String.pipe(
  Schema.check(Schema.isMinLength(1, { expected: "a non-empty path" })),
  Schema.annotate({
    description: "a file or directory path; in a sluice config file, relative to the config file's folder",
    [filePathKey]: true
  })
)

const isFilePath = (ast: SchemaAST.AST): boolean =>
  [ast.annotations, ...(ast.checks ?? []).map((check) => check.annotations)].some(
    (annotations) => annotations?.[filePathKey] === true
  )

const isRecord = (value: unknown): value is Readonly<Record<string, unknown>> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Whether `value` is valid input for `ast` (picks the union member a decode would pick). */
const accepts = (ast: SchemaAST.AST, value: unknown): boolean => Schema.is(Schema.make(SchemaAST.toEncoded(ast)))(value)

const walk = (ast: SchemaAST.AST, value: unknown, f: (path: string) => string): unknown => {
  if (isFilePath(ast)) return typeof value === "string" && value !== "" ? f(value) : value
  switch (ast._tag) {
    case "Objects": {
      if (!isRecord(value)) return value
      const named = new Set(ast.propertySignatures.map((property) => property.name))
      const out: Record<string, unknown> = { ...value }
      for (const property of ast.propertySignatures) {
        if (typeof property.name === "string" && Object.hasOwn(value, property.name)) {
          out[property.name] = walk(property.type, value[property.name], f)
        }
      }
      for (const index of ast.indexSignatures) {
        for (const key of Object.keys(value)) {
          if (!named.has(key)) out[key] = walk(index.type, value[key], f)
        }
      }
      return out
    }
    case "Arrays": {
      if (!Array.isArray(value)) return value
      return value.map((item, i) => {
        const element = ast.elements[i] ?? ast.rest[0]
        return element === undefined ? item : walk(element, item, f)
      })
    }
    case "Union": {
      const member = ast.types.find((type) => accepts(type, value))
      return member === undefined ? value : walk(member, value, f)
    }
    case "Suspend":
      return walk(ast.thunk(), value, f)
    default:
      return value
  }
}

/**
 * `options` (as written, before decoding) with `f` applied to every value that `schema` declares a
 * `FilePath`: in structs, records, arrays, tuples and unions (the member a decode would choose).
 * Everything else, and options that do not fit the schema, are returned unchanged (decoding
 * reports those).
 */
export const mapFilePaths = (schema: Schema.Top, options: unknown, f: (path: string) => string): unknown =>
  walk(schema.ast, options, f)
