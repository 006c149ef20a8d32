/**
 * The port the transport opens its connection through, so each runtime brings its own socket: the
 * transport's code only needs `@nats-io/nats-core` and `@nats-io/jetstream`, which run anywhere.
 * `@sluice/transport-nats/node` provides the one over `@nats-io/transport-node`; with none in the
 * context, the transport loads that one (Node, and Deno through its npm compatibility).
 */
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core"
import { Context, Effect, Option } from "effect"

export interface NatsConnectorShape {
  /** Opens a connection (the client's `connect`). */
  readonly connect: (options: ConnectionOptions) => Promise<NatsConnection>
  /** Reads a file whole (a `.creds` file). */
  readonly readFile: (path: string) => Promise<Uint8Array>
}

export class NatsConnector extends Context.Service<NatsConnector, NatsConnectorShape>()(
  "@sluice/transport-nats/NatsConnector"
) {}

/** The connector in the context, else the one over `@nats-io/transport-node`, loaded on first use. */
export const currentConnector: Effect.Effect<NatsConnectorShape> = Effect.flatMap(
  Effect.serviceOption(NatsConnector),
  (found) =>
    Option.isSome(found)
      ? Effect.succeed(found.value)
      : Effect.promise(() => import("./node/NodeConnector.ts").then((m) => m.nodeConnector))
)
