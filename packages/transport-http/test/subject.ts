/** What the HttpTransport tests share: secrets, the platforms they run over, a transport for a receiver. */
import { noDeadline, type PublishOutcome } from "@sluice/core"
import { makeEvent, TransportContract } from "@sluice/core/testing"
import { Duration, Effect, Layer, Schema } from "effect"
import { make as makeTransport } from "../src/HttpTransport.ts"
import { HttpTransportConfig } from "../src/HttpTransportConfig.ts"
import * as NodeHttpTransport from "../src/node/index.ts"
import type { Receiver } from "./receiver.ts"

export const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
export const oldSecret = "whsec_c2VjcmV0LWtleS1udW1iZXItb25lLTMyYnl0ZXMh"
export const strangerSecret = "whsec_bm90LXRoZS1yaWdodC1rZXktYXQtYWxs"

export const publishOne = (transport: {
  readonly publish: TransportContract.TransportSubject["transport"]["publish"]
}) => Effect.map(transport.publish([TransportContract.envelope(makeEvent())], noDeadline), (outcomes) => outcomes[0]!)

export const errorOf = (outcome: PublishOutcome): string => (outcome._tag === "Delivered" ? "" : outcome.error)
export const retryAfterMs = (outcome: PublishOutcome): number | undefined =>
  outcome._tag === "Retryable" && outcome.retryAfter !== undefined ? Duration.toMillis(outcome.retryAfter) : undefined

// 2026-01-02T03:04:05Z, a whole second so HTTP dates are exact.
export const fixedNow = Date.UTC(2026, 0, 2, 3, 4, 5)

/** Every test runs with the portable defaults and with the Node sender and crypto. */
export const platforms: ReadonlyArray<{
  readonly name: string
  readonly platform: Layer.Layer<never>
}> = [
  { name: "fetch and Web Crypto", platform: Layer.empty },
  { name: "node:http and node:crypto", platform: NodeHttpTransport.layer() }
]

/** The transport over `platform`: from a config, or for a receiver with `overrides` of the config. */
export const forPlatform = (platform: Layer.Layer<never>) => {
  const make = (config: HttpTransportConfig, name?: string) =>
    makeTransport(config, name).pipe(Effect.provide(platform))
  const transportFor = (receiver: Pick<Receiver, "url">, overrides: Record<string, unknown> = {}) =>
    make(Schema.decodeUnknownSync(HttpTransportConfig)({ url: receiver.url, secrets: [secret], ...overrides }), "hook")
  return { make, transportFor }
}
