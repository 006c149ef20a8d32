/**
 * Schema-qualified table names as SqlClient identifiers, so the store's SQL names its tables
 * explicitly and works inside a caller's transaction whatever that connection's search_path is.
 */
import { type SqlClient, Statement } from "effect/sql"

export interface Tables {
  readonly raw: Statement.Identifier
  readonly events: Statement.Identifier
  readonly outbox: Statement.Identifier
  readonly streams: Statement.Identifier
  readonly routePauses: Statement.Identifier
}

/** `schema` must already be validated (see `validateSchema`). */
export const tables = (sql: SqlClient.SqlClient, schema: string): Tables => ({
  raw: sql(`${schema}.raw_payloads`),
  events: sql(`${schema}.events`),
  outbox: sql(`${schema}.outbox`),
  streams: sql(`${schema}.streams`),
  routePauses: sql(`${schema}.route_pauses`)
})

/** The same names as quoted SQL text, for statements whose text is built once (FixedStatement.ts). */
export interface TableNames {
  readonly raw: string
  readonly events: string
  readonly outbox: string
  readonly streams: string
  readonly routePauses: string
}

const quote = Statement.defaultEscape('"')

/** `schema` must already be validated (see `validateSchema`). */
export const tableNames = (schema: string): TableNames => ({
  raw: quote(`${schema}.raw_payloads`),
  events: quote(`${schema}.events`),
  outbox: quote(`${schema}.outbox`),
  streams: quote(`${schema}.streams`),
  routePauses: quote(`${schema}.route_pauses`)
})
