/**
 * The in-memory Transport for tests: records every envelope it sends and answers with outcomes you
 * script (by default: delivered), so a test can make deliveries fail, retry or dead-letter. Given a
 * deadline that has passed, it sends nothing (`NotSent`), as the Transport contract asks.
 */
import { Clock, Context, Effect, Layer } from "effect"
import { delivered, type Envelope, notSent, type PublishOutcome, type Transport } from "../Transport.ts"
import { Transports } from "../Transports.ts"

/** Decides the outcome of one envelope; the default delivers everything. */
export type Behaviour = (envelope: Envelope) => PublishOutcome

export interface MemoryTransportHandle {
  readonly transport: Transport
  /** Every envelope sent (handed to `publish` before its deadline), in order, failed attempts included. */
  readonly published: Effect.Effect<ReadonlyArray<Envelope>>
  /** The envelopes whose outcome was Delivered. */
  readonly delivered: Effect.Effect<ReadonlyArray<Envelope>>
  /** Replaces the behaviour for later publishes. */
  readonly setBehaviour: (behaviour: Behaviour) => Effect.Effect<void>
}

export class MemoryTransport extends Context.Service<MemoryTransport, MemoryTransportHandle>()(
  "sluice/testing/MemoryTransport"
) {
  /** Provides a MemoryTransport named `name` and a `Transports` registry holding it. */
  static readonly layer = (
    name = "memory",
    behaviour: Behaviour = () => delivered
  ): Layer.Layer<MemoryTransport | Transports> =>
    Layer.effectContext(
      Effect.map(make(name, behaviour), (handle) =>
        Context.make(MemoryTransport, handle).pipe(Context.add(Transports, Transports.makeOf([handle.transport])))
      )
    )
}

/** Builds a memory transport named `name`. */
export const make = (name: string, initial: Behaviour = () => delivered): Effect.Effect<MemoryTransportHandle> =>
  Effect.sync(() => {
    let behaviour = initial
    const published: Array<Envelope> = []
    const accepted: Array<Envelope> = []
    return {
      transport: {
        name,
        publish: (envelopes, context) =>
          Effect.map(Clock.currentTimeMillis, (now) =>
            envelopes.map((envelope) => {
              if (now >= context.deadline) return notSent("memory: the publish deadline had passed")
              published.push(envelope)
              const outcome = behaviour(envelope)
              if (outcome._tag === "Delivered") accepted.push(envelope)
              return outcome
            })
          )
      },
      published: Effect.sync(() => [...published]),
      delivered: Effect.sync(() => [...accepted]),
      setBehaviour: (next) =>
        Effect.sync(() => {
          behaviour = next
        })
    }
  })
