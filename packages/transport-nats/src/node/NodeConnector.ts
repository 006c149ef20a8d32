/** The connector over `@nats-io/transport-node` (node:net and node:tls) and node:fs. */
import { readFile } from "node:fs/promises"
import type { NatsConnectorShape } from "../NatsConnector.ts"
import { connectNode } from "./ConnectNode.ts"

export const nodeConnector: NatsConnectorShape = {
  connect: (options) => connectNode(options),
  readFile: async (path) => new Uint8Array(await readFile(path))
}
