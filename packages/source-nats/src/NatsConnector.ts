/**
 * How a NATS connection is opened: a replaceable factory (`NatsConnector`), so the source itself
 * (NatsSource.ts) only speaks `@nats-io/nats-core`'s runtime-neutral `NatsConnection`. The default
 * uses `@nats-io/transport-node` (TCP; also what Deno runs through its npm compatibility); an app on
 * another runtime provides its own (e.g. `wsconnect` from `@nats-io/nats-core` over WebSockets).
 */
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core"
import { credsAuthenticator, nkeyAuthenticator } from "@nats-io/nats-core"
import { Context, Redacted } from "effect"
import type { NatsAuth, NatsTls } from "./Config.ts"
import { connectNode } from "./ConnectNode.ts"

/** What a connection needs, as decoded from a config (secrets still `Redacted`). */
export interface NatsConnectOptions {
  readonly servers: ReadonlyArray<string>
  readonly name: string
  readonly auth?: NatsAuth
  readonly tls?: NatsTls
}

export interface NatsConnector {
  readonly connect: (options: NatsConnectOptions) => Promise<NatsConnection>
}

/**
 * The nats.js options for `options`, secrets revealed only here. `noAsyncTraces`: the client
 * otherwise captures an async stack trace per request (about a third of its CPU at high rates).
 * Reconnects are the client's, without end: a broker restart is a pause, never a crash.
 */
export const connectionOptions = (
  options: NatsConnectOptions,
  readFile: (path: string) => Promise<Uint8Array>
): Promise<ConnectionOptions> =>
  Promise.resolve(options.auth).then(async (auth) => {
    const base: ConnectionOptions = {
      servers: [...options.servers],
      name: options.name,
      noAsyncTraces: true,
      maxReconnectAttempts: -1,
      waitOnFirstConnect: false
    }
    const tls =
      options.tls === undefined
        ? {}
        : {
            tls: {
              ...(options.tls.caFile === undefined ? {} : { caFile: options.tls.caFile }),
              ...(options.tls.certFile === undefined ? {} : { certFile: options.tls.certFile }),
              ...(options.tls.keyFile === undefined ? {} : { keyFile: options.tls.keyFile }),
              ...(options.tls.handshakeFirst === undefined ? {} : { handshakeFirst: options.tls.handshakeFirst })
            }
          }
    if (auth === undefined) return { ...base, ...tls }
    if ("user" in auth) return { ...base, ...tls, user: auth.user, pass: Redacted.value(auth.password) }
    if ("token" in auth) return { ...base, ...tls, token: Redacted.value(auth.token) }
    if ("nkeySeed" in auth) {
      const seed = new TextEncoder().encode(Redacted.value(auth.nkeySeed))
      return { ...base, ...tls, authenticator: nkeyAuthenticator(seed) }
    }
    return { ...base, ...tls, authenticator: credsAuthenticator(await readFile(auth.credsFile)) }
  })

const readFileNode = async (path: string): Promise<Uint8Array> => {
  const { readFile } = await import("node:fs/promises")
  return readFile(path)
}

/** The connector sources use. @default TCP through `@nats-io/transport-node` */
export const NatsConnector = Context.Reference<NatsConnector>("@sluice/source-nats/NatsConnector", {
  defaultValue: () => ({
    connect: async (options) => connectNode(await connectionOptions(options, readFileNode))
  })
})
