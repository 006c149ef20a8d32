/**
 * `@sluice/transport-nats/node`: the connector over `@nats-io/transport-node`. The transport loads
 * it by itself when no connector is provided; provide `layer` to load it up front or to wrap it.
 */
import { Layer } from "effect"
import { NatsConnector } from "../NatsConnector.ts"
import { nodeConnector } from "./NodeConnector.ts"

export { nodeConnector } from "./NodeConnector.ts"

/** The Node connector, for the transports built under it. */
export const layer: Layer.Layer<NatsConnector> = Layer.succeed(NatsConnector, nodeConnector)
