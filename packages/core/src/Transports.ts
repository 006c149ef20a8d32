/**
 * The registry of transport instances, by name: routes name a transport, the relay looks it up here.
 * Plugins register into it (see Plugin.ts); code can build one from a list.
 */
import { Context, Data, Effect, Layer } from "effect"
import type { Transport } from "./Transport.ts"

/** A route names a transport that is not registered. */
export class UnknownTransportError extends Data.TaggedError("UnknownTransportError")<{
  readonly transport: string
  readonly known: ReadonlyArray<string>
}> {
  override get message() {
    return `no transport named ${JSON.stringify(this.transport)} (known: ${this.known.join(", ") || "none"})`
  }
}

export class Transports extends Context.Service<
  Transports,
  {
    readonly get: (name: string) => Effect.Effect<Transport, UnknownTransportError>
    readonly register: (transport: Transport) => Effect.Effect<void>
    readonly names: Effect.Effect<ReadonlyArray<string>>
  }
>()("sluice/Transports") {
  /** An empty registry that plugins' layers fill. */
  static readonly layer: Layer.Layer<Transports> = Layer.sync(Transports, () => make([]))
  /** A registry holding exactly these transports. */
  static readonly layerOf = (...transports: ReadonlyArray<Transport>): Layer.Layer<Transports> =>
    Layer.sync(Transports, () => make(transports))
  /** A registry value holding exactly these transports. */
  static readonly makeOf = (transports: ReadonlyArray<Transport>): Transports["Service"] => make(transports)
}

const make = (initial: ReadonlyArray<Transport>): Transports["Service"] => {
  const byName = new Map(initial.map((t) => [t.name, t] as const))
  return Transports.of({
    get: (name) => {
      const transport = byName.get(name)
      return transport === undefined
        ? Effect.fail(new UnknownTransportError({ transport: name, known: [...byName.keys()] }))
        : Effect.succeed(transport)
    },
    register: (transport) => Effect.sync(() => void byName.set(transport.name, transport)),
    names: Effect.sync(() => [...byName.keys()])
  })
}
