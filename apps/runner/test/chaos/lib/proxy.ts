/**
 * Chaos harness: a TCP proxy in front of PostgreSQL that can make the LISTEN connection half-open:
 * it recognises a client connection by the `LISTEN` statement it sends, and once `blackhole()` is
 * called it silently drops every byte of those connections, both ways, keeping the sockets open (no
 * FIN, no RST): exactly what a dead NAT entry or a stalled firewall does. Other connections pass.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net"

export interface Proxy {
  readonly port: number
  /** Drops all traffic of the LISTEN connections from now on (existing and future ones). */
  readonly blackhole: () => void
  /** LISTEN connections seen so far. */
  readonly listeners: () => number
  /** Bytes dropped by the black hole. */
  readonly dropped: () => number
  readonly close: () => Promise<void>
}

export const startProxy = async (targetPort: number): Promise<Proxy> => {
  let holed = false
  let dropped = 0
  let listenerCount = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: "127.0.0.1", port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    let isListener = false
    const pass = (from: Socket, to: Socket, fromClient: boolean) =>
      from.on("data", (chunk: Buffer) => {
        if (fromClient && !isListener && /\blisten\s/i.test(chunk.toString("latin1"))) {
          isListener = true
          listenerCount += 1
        }
        if (holed && isListener) {
          dropped += chunk.length
          return
        }
        to.write(chunk)
      })
    pass(client, upstream, true)
    pass(upstream, client, false)
    const end = () => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on("close", end).on("error", end)
    upstream.on("close", end).on("error", end)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0
  return {
    port,
    blackhole: () => {
      holed = true
    },
    listeners: () => listenerCount,
    dropped: () => dropped,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      })
  }
}
