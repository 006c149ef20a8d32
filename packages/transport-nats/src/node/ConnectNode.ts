/**
 * `connect` of `@nats-io/transport-node`, with sockets that never throw an error after the
 * client is done with them.
 *
 * The client's transport ends a connection with `removeAllListeners()` and `destroy()` on its socket.
 * Node emits nothing on a destroyed socket, but Deno's node:net can still deliver a late read error
 * to it (a server that refuses the credentials resets the connection just after). An 'error' event
 * with no listener is an uncaught exception, which ends the process. Here every socket the transport
 * makes keeps one no-op 'error' listener through any `removeAllListeners`; the client still sees
 * every error through its own listeners while it has them.
 *
 * @sluice/source-nats (src/ConnectNode.ts) holds the same file:
 * the two plugins share no package but core.
 */
import type { Socket } from "node:net"
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core"
import { NatsConnectionImpl, setTransportFactory } from "@nats-io/nats-core/internal"
import { NodeTransport, nodeResolveHost } from "@nats-io/transport-node/lib/node_transport.js"

const ignore = () => {}

/** Keeps a no-op 'error' listener on `socket` for good. */
export const guardSocket = <S extends Socket>(socket: S): S => {
  const removeAll = socket.removeAllListeners.bind(socket)
  // With no argument it removes every event's listeners; `removeAll(undefined)` would remove none.
  socket.removeAllListeners = (...event: [] | [string | symbol]) => {
    removeAll(...event)
    if (event.length === 0 || event[0] === "error") socket.on("error", ignore)
    return socket
  }
  socket.on("error", ignore)
  return socket
}

/** The client's Node transport with guarded sockets (plain TCP, TLS first, and TLS upgraded). */
class GuardedNodeTransport extends NodeTransport {
  override async dial(hp: { hostname: string; port: number }): Promise<Socket> {
    return guardSocket(await super.dial(hp))
  }
  override async tlsFirst(hp: { hostname: string; port: number }) {
    return guardSocket(await super.tlsFirst(hp))
  }
  override async startTLS() {
    return guardSocket(await super.startTLS())
  }
}

/**
 * Connects as `@nats-io/transport-node`'s `connect` does. The transport factory is the client's one
 * global setting, read at every (re)connect; that `connect` sets it too, each time it is called.
 */
export const connectNode = (options: ConnectionOptions): Promise<NatsConnection> => {
  setTransportFactory({ factory: () => new GuardedNodeTransport(), dnsResolveFn: nodeResolveHost })
  return NatsConnectionImpl.connect(options)
}
