/**
 * The webhook bench's receiver, run as its own process (so that on a 2-core machine the sender under
 * test has a core to itself): answers every POST 204 once its body has arrived. Prints its port.
 */
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"

const server = createServer((req, res) => {
  req.resume()
  req.on("end", () => res.writeHead(204).end())
})
server.keepAliveTimeout = 60_000
server.listen(0, "127.0.0.1", () => console.log(`PORT ${(server.address() as AddressInfo).port}`))
process.on("SIGTERM", () => process.exit(0))
