/**
 * The LISTEN side of LISTEN/NOTIFY as a small port: Effect's SqlClient can send `pg_notify` like any
 * statement, but receiving needs a driver's dedicated connection. The postgres.js and PGlite
 * drivers provide it; a store built on a foreign SqlClient without it simply polls.
 */
import { Context, type Effect, type Scope } from "effect"
import type { SqlError } from "effect/sql"

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
  }
>()("sluice/PgNotifications") {}
