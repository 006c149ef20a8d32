/** The connector over `@nats-io/transport-node` (node:net and node:tls) and node:fs. */
import { readFile } from "node:fs/promises"
import { connect } from "@nats-io/transport-node"
import type { NatsConnectorShape } from "../NatsConnector.ts"

export const nodeConnector: NatsConnectorShape = {
  connect: (options) => connect(options),
  readFile: async (path) => new Uint8Array(await readFile(path))
}
