/**
 * The runner's relay: core's `Relay.start` (workers with a graceful stop), with lease owners that
 * name this host and process so operators can tell who holds a row.
 */
import { hostname } from "node:os"
import { type EventStore, Relay, type Transports } from "@sluice/core"
import type { Effect, Scope } from "effect"

/** A lease owner naming this process, for operators reading the outbox. */
export const processOwner = (): string => `${hostname()}/${process.pid}`

/** Starts the workers in the current scope; closing the scope stops them gracefully. */
export const start = (
  options: Omit<Relay.StartOptions, "owner">
): Effect.Effect<Relay.RelayHandle, never, EventStore | Transports | Scope.Scope> =>
  Relay.start({ ...options, owner: processOwner() })
