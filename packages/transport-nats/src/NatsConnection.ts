/**
 * Opening the connection a plugin instance holds for its lifetime: the options from the config
 * (credentials and TLS), a connection that reconnects by itself for ever (a server restart or a
 * failover is never a crash: publishes in between time out and are retried), status changes
 * logged, and a drain when the scope closes (graceful shutdown: pending acks are awaited).
 */
import { type ConnectionOptions, credsAuthenticator, type NatsConnection, nkeyAuthenticator } from "@nats-io/nats-core"
import { Plugin } from "@sluice/core"
import { Duration, Effect, Redacted, type Scope, Stream } from "effect"
import { type NatsConnectionConfig, safeServer } from "./NatsConnectionConfig.ts"
import { currentConnector } from "./NatsConnector.ts"
import { messageOf } from "./Outcome.ts"

/** Longest wait for a drain at shutdown; then the connection is closed. */
const drainBound = Duration.seconds(10)

/** The client's options for `config` (reading a `.creds` file through `readFile`). */
export const connectionOptions = async (
  config: NatsConnectionConfig,
  name: string,
  readFile: (path: string) => Promise<Uint8Array>
): Promise<ConnectionOptions> => {
  const options: ConnectionOptions = {
    servers: [...config.servers],
    name: config.name ?? name,
    noAsyncTraces: config.noAsyncTraces,
    // Reconnect for ever: an outage is retried publishes, not a dead process.
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000
  }
  if (config.user !== undefined && config.password !== undefined) {
    options.user = config.user
    options.pass = Redacted.value(config.password)
  }
  if (config.token !== undefined) options.token = Redacted.value(config.token)
  if (config.nkeySeed !== undefined) {
    options.authenticator = nkeyAuthenticator(new TextEncoder().encode(Redacted.value(config.nkeySeed)))
  }
  if (config.credsFile !== undefined) options.authenticator = credsAuthenticator(await readFile(config.credsFile))
  if (config.tls !== undefined) {
    const { ca, cert, key, handshakeFirst } = config.tls
    options.tls = {
      ...(ca === undefined ? {} : { caFile: ca }),
      ...(cert === undefined ? {} : { certFile: cert }),
      ...(key === undefined ? {} : { keyFile: key }),
      ...(handshakeFirst === undefined ? {} : { handshakeFirst })
    }
  }
  return options
}

/**
 * Connects for as long as the scope lasts. Fails with PluginStartError when no server answers at
 * start (the reason names the servers, never a credential).
 */
export const openConnection = (
  config: NatsConnectionConfig,
  plugin: string,
  instance: string
): Effect.Effect<NatsConnection, Plugin.PluginStartError, Scope.Scope> =>
  Effect.gen(function* () {
    const connector = yield* currentConnector
    const servers = config.servers.map(safeServer).join(", ")
    const nc = yield* Effect.acquireRelease(
      Effect.tryPromise({
        try: async () => connector.connect(await connectionOptions(config, instance, connector.readFile)),
        catch: (cause) =>
          new Plugin.PluginStartError({
            plugin,
            instance,
            reason: `could not connect to NATS at ${servers}: ${messageOf(cause)}`
          })
      }),
      (nc) =>
        Effect.promise(() => nc.drain().catch(() => undefined)).pipe(
          Effect.timeoutOption(drainBound),
          Effect.andThen(Effect.promise(() => nc.close().catch(() => undefined)))
        )
    )
    yield* Stream.fromAsyncIterable(nc.status(), (cause) => cause).pipe(
      Stream.runForEach((status) =>
        status.type === "disconnect" || status.type === "reconnect" || status.type === "error"
          ? Effect.logWarning(`NATS connection ${status.type}`).pipe(
              Effect.annotateLogs({
                transport: instance,
                server: "server" in status ? safeServer(String(status.server)) : ""
              })
            )
          : Effect.void
      ),
      Effect.ignore,
      Effect.forkScoped
    )
    return nc
  })
