/**
 * LISTEN/NOTIFY as a small port: Effect's SqlClient can send `pg_notify` like any statement, but
 * receiving needs a driver's dedicated connection. The postgres.js and PGlite drivers provide it; a
 * store built on a foreign SqlClient without it simply polls. The postgres.js driver also sends
 * NOTIFYs itself (`notify`); without that the store sends them as statements on the SqlClient.
 */
import { Context, type Effect, type Scope } from "effect"
import type { SqlError } from "effect/sql"

/**
 * A NOTIFY, its transaction committed asynchronously (synchronous_commit off for that transaction
 * only): a NOTIFY need not wait for a WAL flush. Parameters: the channel and the payload.
 */
export const notifyStatement = "SELECT pg_notify($1, $2), set_config('synchronous_commit', 'off', true)"

export class PgNotifications extends Context.Service<
  PgNotifications,
  {
    /**
     * Listens on `channel` until the scope closes, calling `onNotify` with each notification's
     * payload. The effect completes once LISTEN is active, so a NOTIFY sent after it is never missed.
     */
    readonly listen: (
      channel: string,
      onNotify: (payload: string) => void
    ) => Effect.Effect<void, SqlError.SqlError, Scope.Scope>
    /**
     * Sends `notifyStatement` with `channel` and `payload` on the driver's pool and returns at once,
     * outside the fiber runtime: `onError` gets the cause if it fails. A NOTIFY leaves right after
     * each commit that has listeners waiting for it; a fiber per NOTIFY (its start, and its
     * resumption when the answer arrives) sits in that moment on the same event loop.
     */
    readonly notify?: (channel: string, payload: string, onError: (cause: unknown) => void) => void
  }
>()("sluice/PgNotifications") {}
