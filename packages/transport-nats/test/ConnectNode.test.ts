/**
 * The guarded sockets of `connectNode`: a socket the client has stripped of its listeners keeps a
 * no-op 'error' listener, so a reset arriving afterwards is not an uncaught exception.
 */
import { createServer, type Socket, connect as tcpConnect } from "node:net"
import { assert, describe, it } from "@effect/vitest"
import { guardSocket } from "../src/node/ConnectNode.ts"

/** A connected client socket to a loopback server that resets the connection when `reset` is called. */
const socketPair = async () => {
  const server = createServer()
  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      resolve(typeof address === "object" && address !== null ? address.port : 0)
    })
  })
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve))
  const client = tcpConnect(port, "127.0.0.1")
  await new Promise<void>((resolve, reject) => {
    client.once("connect", resolve)
    client.once("error", reject)
  })
  const peer = await accepted
  return { client, reset: () => peer.resetAndDestroy(), close: () => server.close() }
}

describe("guardSocket", () => {
  it("keeps one error listener through removeAllListeners, and removes every other listener", async () => {
    const { client, close } = await socketPair()
    guardSocket(client)
    client.on("data", () => {})
    client.on("close", () => {})
    client.on("error", () => {})
    client.removeAllListeners()
    assert.strictEqual(client.listenerCount("error"), 1)
    assert.strictEqual(client.listenerCount("data"), 0)
    assert.strictEqual(client.listenerCount("close"), 0)
    client.on("error", () => {})
    client.removeAllListeners("error")
    assert.strictEqual(client.listenerCount("error"), 1)
    client.on("data", () => {})
    client.removeAllListeners("data")
    assert.strictEqual(client.listenerCount("data"), 0)
    assert.strictEqual(client.listenerCount("error"), 1)
    client.destroy()
    close()
  })

  it("a reset after the listeners were removed closes the socket without an uncaught error", async () => {
    const { client, reset, close } = await socketPair()
    guardSocket(client)
    client.removeAllListeners()
    const closed = new Promise<boolean>((resolve) => client.once("close", resolve))
    reset()
    // Unguarded, the reset's ECONNRESET is emitted with no 'error' listener: an uncaught exception.
    assert.isTrue(await closed)
    close()
  })
})
