/**
 * The PostgreSQL statement compiler for Effect's SqlClient: `$1, $2...` placeholders numbered by the
 * compiler (never by hand), double-quoted identifiers, and `updateValues` as `FROM (VALUES ...)`.
 * Shared by the postgres.js and PGlite drivers, since both speak PostgreSQL's extended protocol.
 */
import { Statement } from "effect/sql"

const escapeIdentifier = Statement.defaultEscape('"')

/** Builds the compiler; `transform` renames identifiers (e.g. camelCase to snake_case) when given. */
export const makeCompiler = (transform?: (name: string) => string): Statement.Compiler =>
  Statement.makeCompiler({
    dialect: "pg",
    placeholder: (index) => `$${index}`,
    onIdentifier: transform
      ? (value, withoutTransform) => (withoutTransform ? escapeIdentifier(value) : escapeIdentifier(transform(value)))
      : escapeIdentifier,
    onRecordUpdate: (placeholders, alias, columns, values, returning) => [
      `(values ${placeholders}) AS ${alias}${columns}${returning ? ` RETURNING ${returning[0]}` : ""}`,
      returning ? [...values.flat(), ...returning[1]] : values.flat()
    ],
    onCustom: () => ["", []]
  })
