/**
 * Vitest bindings for the contract suites, one per port: `eventLogSuite(name, layer)` registers
 * every EventStore case (EventStoreContract and its streams part, StreamContract) as a test,
 * `outboxQueueSuite` every OutboxQueue case, `outboxAdminSuite` every OutboxAdmin case, and
 * `subscriptionSuite` every SubscriptionStore and Subscription case; `eventStoreSuite` runs the
 * first three. Lives outside `src` because core's runtime code imports only `effect`; this file
 * needs `@effect/vitest`.
 */
import { describe, it } from "@effect/vitest"
import { Clock, DateTime, Duration, Effect, type Layer } from "effect"
import { TestClock } from "effect/testing"
import type { EventStore } from "../src/EventStore.ts"
import type { OutboxQueue } from "../src/OutboxQueue.ts"
import type { RawPayloadStore } from "../src/RawPayloadStore.ts"
import type { SubscriptionStore } from "../src/SubscriptionStore.ts"
import type { ContractCase, StoreServices } from "../src/testing/ContractHarness.ts"
import { cases, type Harness } from "../src/testing/EventStoreContract.ts"
import { cases as outboxAdminCases } from "../src/testing/OutboxAdminContract.ts"
import { cases as outboxQueueCases } from "../src/testing/OutboxQueueContract.ts"
import { cases as rawPayloadCases } from "../src/testing/RawPayloadContract.ts"
import { rawCases as rawRetentionCases, cases as retentionCases } from "../src/testing/RetentionContract.ts"
import { cases as streamCases } from "../src/testing/StreamContract.ts"
import { cases as subscriptionCases } from "../src/testing/SubscriptionContract.ts"
import { cases as subscriptionRunCases } from "../src/testing/SubscriptionRunContract.ts"

export interface SuiteOptions {
  /**
   * `virtual`: TestClock time (stores that read the Clock, like the memory store);
   * `real`: real sleeps (stores whose time comes from a database).
   * @default "virtual"
   */
  readonly time?: "virtual" | "real"
  /** Per-test timeout in milliseconds. @default 20000 */
  readonly timeout?: number
}

const virtual: Harness = {
  advance: (duration) => TestClock.adjust(duration),
  now: Effect.map(Clock.currentTimeMillis, (ms) => DateTime.makeUnsafe(ms))
}
const real: Harness = {
  advance: (duration) => Effect.sleep(duration),
  now: Effect.map(Clock.currentTimeMillis, (ms) => DateTime.makeUnsafe(ms)),
  // A busy machine can stall a database call for hundreds of milliseconds: a case's lease must not
  // run out between two of its calls (it then claimed rows it expected to find leased).
  expiry: Duration.seconds(2)
}

/** Registers `contractCases` under `title`, each against `layer` built afresh. */
const register = <E>(
  title: string,
  contractCases: ReadonlyArray<ContractCase>,
  layer: Layer.Layer<StoreServices, E>,
  options: SuiteOptions
): void => {
  const harness = options.time === "real" ? real : virtual
  const test = options.time === "real" ? it.live : it.effect
  describe(title, () => {
    for (const contractCase of contractCases) {
      test(contractCase.name, () => contractCase.run(harness).pipe(Effect.provide(layer)), options.timeout ?? 20_000)
    }
  })
}

/**
 * Runs the EventStore (event log) contract, streams included, against `layer`, built afresh for
 * every case. The layer provides the outbox's ports too: cases check the rows an append makes.
 */
export const eventLogSuite = <E>(
  name: string,
  layer: Layer.Layer<StoreServices, E>,
  options: SuiteOptions = {}
): void => {
  register(`EventStore contract: ${name}`, cases, layer, options)
  register(`EventStore contract, streams: ${name}`, streamCases, layer, options)
}

/** Runs the OutboxQueue contract (claims, results, wake-ups) against `layer`, built afresh for every case. */
export const outboxQueueSuite = <E>(
  name: string,
  layer: Layer.Layer<StoreServices, E>,
  options: SuiteOptions = {}
): void => register(`OutboxQueue contract: ${name}`, outboxQueueCases, layer, options)

/**
 * Runs the OutboxAdmin contract (list, stats, backlog, replay, purge, prune) against `layer`, built
 * afresh for every case.
 */
export const outboxAdminSuite = <E>(
  name: string,
  layer: Layer.Layer<StoreServices, E>,
  options: SuiteOptions = {}
): void => register(`OutboxAdmin contract: ${name}`, [...outboxAdminCases, ...retentionCases], layer, options)

/**
 * Runs the contracts of a store's event log and outbox against `layer`: `eventLogSuite`,
 * `outboxQueueSuite` and `outboxAdminSuite` (the SubscriptionStore's is `subscriptionSuite`).
 */
export const eventStoreSuite = <E>(
  name: string,
  layer: Layer.Layer<StoreServices, E>,
  options: SuiteOptions = {}
): void => {
  eventLogSuite(name, layer, options)
  outboxQueueSuite(name, layer, options)
  outboxAdminSuite(name, layer, options)
}
export { type TransportSuiteOptions, transportSuite } from "./transport.ts"

/** Runs the SubscriptionStore and Subscription contracts against `layer`, built afresh for every case. */
export const subscriptionSuite = <E>(
  name: string,
  layer: Layer.Layer<EventStore | SubscriptionStore, E>,
  options: SuiteOptions = {}
): void => {
  const harness = options.time === "real" ? real : virtual
  const test = options.time === "real" ? it.live : it.effect
  describe(`SubscriptionStore contract: ${name}`, () => {
    for (const contractCase of [...subscriptionCases, ...subscriptionRunCases]) {
      test(
        contractCase.name,
        // The case's scope (its subscriptions) closes before the store's layer.
        () => Effect.scoped(contractCase.run(harness)).pipe(Effect.provide(layer)),
        options.timeout ?? 120_000
      )
    }
  })
}

/**
 * Runs the RawPayloadStore contract (raw payload retention included) against `layer`, built afresh
 * for every case.
 */
export const rawPayloadSuite = <E>(
  name: string,
  layer: Layer.Layer<EventStore | RawPayloadStore | OutboxQueue, E>,
  options: SuiteOptions = {}
): void => {
  const test = options.time === "real" ? it.live : it.effect
  describe(`RawPayloadStore contract: ${name}`, () => {
    for (const contractCase of [...rawPayloadCases, ...rawRetentionCases]) {
      test(contractCase.name, () => contractCase.run.pipe(Effect.provide(layer)), options.timeout ?? 20_000)
    }
  })
}
