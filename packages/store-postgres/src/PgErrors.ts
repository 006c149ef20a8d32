/**
 * Maps driver errors (postgres.js `PostgresError`, PGlite `DatabaseError`, socket errors) to Effect's
 * structured `SqlError` by SQLSTATE, so callers can tell a lost connection (retry) from bad input.
 */
import { StoreError } from "@sluice/core"
import { Predicate } from "effect"
import { SqlError } from "effect/sql"

const field = (cause: unknown, name: string): string | undefined => {
  if (!Predicate.hasProperty(cause, name)) return undefined
  const value = cause[name]
  return typeof value === "string" ? value : undefined
}

// Node socket errors and postgres.js' own connection errors carry these codes instead of a SQLSTATE.
const connectionCodes = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT"
])

/** Wraps `cause` in a SqlError whose reason follows its SQLSTATE (class 08 and 57P0x: connection lost). */
export const toSqlError = (cause: unknown, operation: string): SqlError.SqlError => {
  const code = field(cause, "code") ?? ""
  const message = field(cause, "message") ?? String(cause)
  const fields = { cause, message, operation }
  // postgres.js names a violated constraint `constraint_name`, PGlite `constraint`.
  const constraint = field(cause, "constraint_name") ?? field(cause, "constraint") ?? "unknown"
  const reason =
    code === "23505"
      ? new SqlError.UniqueViolation({ ...fields, constraint })
      : code.startsWith("23")
        ? new SqlError.ConstraintError(fields)
        : code === "40P01"
          ? new SqlError.DeadlockError(fields)
          : code === "40001"
            ? new SqlError.SerializationError(fields)
            : code === "55P03"
              ? new SqlError.LockTimeoutError(fields)
              : code === "57014"
                ? new SqlError.StatementTimeoutError(fields)
                : code === "42501"
                  ? new SqlError.AuthorizationError(fields)
                  : code.startsWith("28")
                    ? new SqlError.AuthenticationError(fields)
                    : code.startsWith("42")
                      ? new SqlError.SqlSyntaxError(fields)
                      : code.startsWith("08") || code.startsWith("57P") || connectionCodes.has(code)
                        ? new SqlError.ConnectionError(fields)
                        : new SqlError.UnknownError(fields)
  return new SqlError.SqlError({ reason })
}

/** A failed statement as the ports' StoreError: retryable when the SqlError's reason is. */
export const toStoreError =
  (operation: string) =>
  (error: SqlError.SqlError): StoreError =>
    new StoreError({ operation, reason: error.message, retryable: error.isRetryable, cause: error })
